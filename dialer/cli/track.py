"""``dialer report`` and ``dialer track``: call outcomes learned without the window.

Click2Call v1 and Kazoo do not push outcomes: someone must ask. The window's
:class:`~dialer.history.tracking.CallTracker` does while it runs; these commands run the same
tracker from a terminal, a script or a timer. ``report`` fetches one call's outcome now;
``track`` follows every open call until each is concluded (``--once``: one pass, for cron).
C2C v2 pushes its reports to the webhook receiver (``dialer webhooks serve`` runs the tracker
too); DigiDonar documents no report at all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dialer.core.errors import DialerError, InvalidInput, UnexpectedAnswer
from dialer.core.paths import AppPaths

if TYPE_CHECKING:
    from dialer.app.profile import Profile
    from dialer.history.records import CallRecord
    from dialer.history.store import HistoryStore
    from dialer.history.tracking import CallTracker, TrackingTimings

EXIT_INTERRUPTED = 130  # as dialer.cli.main's

# The tracker's timings (None: its defaults); tests shorten them.
TIMINGS: TrackingTimings | None = None


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report",
        help="fetch and store a Click2Call v1 or Kazoo call's outcome now",
        description="Ask the provider for one call's outcome now (Click2Call v1's report, "
        "Kazoo's clicktocall history), store it, and print the call. A call still ringing or "
        "talking stays open; ask again later, or let 'dialer track' follow it.",
    )
    report.add_argument(
        "call",
        metavar="CALL_ID_OR_REFERENCE",
        help="the call's id ('id' in 'dialer call --json') or the provider's reference",
    )
    report.add_argument("--json", action="store_true", help="print the call as one JSON object")
    track = commands.add_parser(
        "track",
        help="learn every open call's outcome without the window (until all are concluded)",
        description="Run the window's call tracker headless: ask Click2Call v1 and Kazoo for "
        "the outcome of every open call of this profile until each is concluded, then exit. "
        "Ctrl+C or SIGTERM stops it. C2C v2 outcomes arrive at the webhook receiver "
        "(the window, or 'dialer webhooks serve'), which must run meanwhile.",
    )
    track.add_argument(
        "--once",
        action="store_true",
        help="one pass over the open calls, then exit (for a timer or cron)",
    )


async def run(args: argparse.Namespace, paths: AppPaths) -> int:
    if args.command == "report":
        return await report(args, paths)
    return await track(args, paths)


# -- dialer report ---------------------------------------------------------------------------


async def report(args: argparse.Namespace, paths: AppPaths) -> int:
    from dialer.history.factory import history_exists

    wanted = args.call.strip()
    if not wanted:
        raise InvalidInput("Give the call's id or the provider's reference")
    if not history_exists(paths):  # nothing placed yet: do not create a history to say so
        raise InvalidInput(_no_such_call(wanted))
    profile = _open_profile(paths)
    try:
        record = find_call(profile.history, wanted)
        tracker = _tracker(profile)
        try:
            done = await tracker.conclude_now(record.id)
        finally:
            await tracker.aclose()
    finally:
        await profile.aclose()
    if args.json:
        print(json.dumps(done.as_dict()))
    elif done.is_final:
        print(describe(done))
    else:
        print(
            f"Call {done.id} to {done.customer}: no final report from {_label(done)} yet "
            f"(still {done.status}); ask again later, or run 'dialer track' to follow it"
        )
    return 0


def find_call(history: HistoryStore, wanted: str) -> CallRecord:
    """The call whose id is ``wanted``, else the one whose provider reference it is."""
    from dialer.history.records import HistoryQuery

    record = history.get(wanted)
    if record is not None:
        return record
    # Open calls first (the ones worth asking about, and an index reads them); then all.
    found = [r for r in history.open_calls() if r.provider_ref == wanted]
    if not found:
        found = [r for r in history.iter_records(HistoryQuery()) if r.provider_ref == wanted]
    if not found:
        raise InvalidInput(_no_such_call(wanted))
    if len(found) > 1:
        ids = ", ".join(r.id for r in found[:5])
        raise InvalidInput(
            f"The provider reference '{wanted}' belongs to {len(found)} calls ({ids}); "
            "give the call's id instead"
        )
    return found[0]


def _no_such_call(wanted: str) -> str:
    return (
        f"No call in the history has the id or provider reference '{wanted}'; "
        "'dialer history' lists the calls"
    )


def describe(record: CallRecord) -> str:
    """One line: the call and its outcome."""
    from dialer.core.calls import CallStatus
    from dialer.core.times import format_duration

    line = f"Call {record.id} to {record.customer}: {record.status}"
    if record.cause:  # the provider's own words
        line += f" ({record.cause})"
    elif record.status is CallStatus.NO_REPORT and record.message:  # the tracker's, why
        line += f" ({record.message})"
    if record.talk_seconds:
        line += f", talk {format_duration(record.talk_seconds)}"
    return line


# -- dialer track ----------------------------------------------------------------------------


async def track(args: argparse.Namespace, paths: AppPaths) -> int:
    from dialer.cli.signals import stop_signals, until_stopped

    profile = _open_profile(paths)
    concluded: dict[str, CallRecord] = {}
    outside: set[str] = set()

    def heard(record: CallRecord) -> None:
        from dialer.history.records import CallOrigin

        if record.origin is not CallOrigin.APP:
            outside.add(record.id)
        elif record.is_final:
            concluded[record.id] = record

    history = profile.history
    history.call_listeners_on(asyncio.get_running_loop())
    history.add_listener(heard, here_only=True)
    tracker = _tracker(profile)
    interrupted = False
    failures: list[tuple[str, Exception]] = []
    try:
        if args.once:
            failures = await tracker.run_once()
        else:
            with stop_signals() as stop, _problems_on_stderr():
                tracker.start()
                pending = len(tracker.pending())
                print(
                    f"Tracking {_calls(pending)} until each is concluded (Ctrl+C stops)"
                    if pending
                    else "No open call to track",
                    flush=True,
                )
                interrupted = await until_stopped(stop, tracker.until_concluded())
        still_open = sorted(tracker.pending()) if not args.once else _open_here(history)
    finally:
        await tracker.aclose()
        history.remove_listener(heard)
        await profile.aclose()
    for record in sorted(concluded.values(), key=lambda r: r.created_at):
        print(describe(record))
    summary = f"Concluded {_calls(len(concluded))}"
    if outside:
        summary += f"; {_calls(len(outside))} placed outside the app added to the history"
    if still_open:
        summary += f"; {len(still_open)} still open"
    print(("Stopped. " if interrupted else "") + summary, flush=True)
    for what, error in failures:
        print(f"dialer: {what}: {error}", file=sys.stderr)
    if interrupted:
        return EXIT_INTERRUPTED
    if failures:
        error = failures[0][1]
        return error.exit_code if isinstance(error, DialerError) else UnexpectedAnswer.exit_code
    return 0


@contextlib.contextmanager
def _problems_on_stderr() -> Iterator[None]:
    """While ``track`` runs, a provider that cannot be read is said on stderr as it happens
    (once per call or account until it answers again), not only in the log file."""
    import logging

    from dialer.core.redact import RedactingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("dialer: %(message)s"))
    handler.addFilter(RedactingFilter())
    tracking = logging.getLogger("dialer.history.tracking")
    tracking.addHandler(handler)
    try:
        yield
    finally:
        tracking.removeHandler(handler)


def _calls(count: int) -> str:
    return f"{count} call" + ("" if count == 1 else "s")


def _open_here(history: HistoryStore) -> list[str]:
    from dialer.history.records import CallOrigin

    return [r.id for r in history.open_calls() if r.origin is CallOrigin.APP]


# -- shared ------------------------------------------------------------------------------------


def _open_profile(paths: AppPaths) -> Profile:
    from dialer.app.profile import open_user_profile

    return open_user_profile(paths)


def _tracker(profile: Profile) -> CallTracker:
    from dialer.history.tracking import CallTracker

    return CallTracker(profile.history, profile.service, timings=TIMINGS)


def _label(record: CallRecord) -> str:
    from dialer.providers import provider_spec

    try:
        return provider_spec(record.provider).label
    except DialerError:
        return record.provider
