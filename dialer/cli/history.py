"""``dialer history``: the call history, filtered, as a table or exported as CSV or JSON.

Oldest first, so that the newest call is the last line a terminal shows. Dates are local
time; ``--until DATE`` includes that whole day, ``--until DATETIME`` stops just before it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

from dialer.core.calls import CallStatus
from dialer.core.errors import InvalidInput
from dialer.core.paths import AppPaths
from dialer.core.times import format_duration, local_text
from dialer.history.records import CallRecord, HistoryQuery, HistoryTotals, digits_of

if TYPE_CHECKING:
    from dialer.core.contacts import ContactStore

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
VALID_STATUSES = ", ".join(status.value for status in CallStatus)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    history = commands.add_parser(
        "history",
        help="list or export the call history (filters: dates, status, account, number)",
        description="List the calls in the history, oldest first, or export them. DATE is "
        "YYYY-MM-DD or an ISO date and time (YYYY-MM-DDTHH:MM[:SS][+HH:MM]), in local time "
        "unless it has an offset; --until DATE includes that day.",
    )
    history.add_argument("--since", metavar="DATE", help="calls placed at or after DATE")
    history.add_argument("--until", metavar="DATE", help="calls placed up to DATE")
    history.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="S",
        help=f"repeatable, or a comma list: {VALID_STATUSES}",
    )
    history.add_argument(
        "--account", action="append", default=[], metavar="A", help="account name (repeatable)"
    )
    history.add_argument(
        "--number", metavar="DIGITS", help="any run of digits of the customer's or agent's number"
    )
    history.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME",
        help="who placed the call, in a team history (repeatable)",
    )
    output = history.add_mutually_exclusive_group()
    output.add_argument("--csv", action="store_true", help="write CSV to standard output")
    output.add_argument("--json", action="store_true", help="write a JSON array to stdout")


def parse_when(text: str, *, option: str, end_of_day: bool) -> float:
    """A date or date-time as epoch seconds (local time unless it carries an offset); with
    ``end_of_day`` a bare date means the start of the next day, so the day is included."""
    value = text.strip()
    try:
        if _DATE.fullmatch(value):
            day = date.fromisoformat(value)
            if end_of_day:
                day += timedelta(days=1)
            return datetime.combine(day, datetime.min.time()).timestamp()
        return datetime.fromisoformat(value).timestamp()
    except (ValueError, OverflowError, OSError):
        raise InvalidInput(
            f"{option} '{text}' is not a date (YYYY-MM-DD) or a date and time "
            "(YYYY-MM-DDTHH:MM, optionally with seconds and an offset)"
        ) from None


def parse_statuses(values: Iterable[str]) -> tuple[CallStatus, ...]:
    statuses: list[CallStatus] = []
    for value in values:
        for word in value.split(","):
            name = word.strip().lower()
            if not name:
                continue
            try:
                status = CallStatus(name)
            except ValueError:
                raise InvalidInput(
                    f"Unknown status '{word.strip()}'; choose from: {VALID_STATUSES}"
                ) from None
            if status not in statuses:
                statuses.append(status)
    return tuple(statuses)


def query_from_args(args: argparse.Namespace) -> HistoryQuery:
    since = parse_when(args.since, option="--since", end_of_day=False) if args.since else None
    until = parse_when(args.until, option="--until", end_of_day=True) if args.until else None
    if since is not None and until is not None and until <= since:
        raise InvalidInput(f"--until ({args.until}) must be later than --since ({args.since})")
    number = ""
    if args.number is not None:
        number = digits_of(args.number)
        if not number:
            raise InvalidInput(f"--number '{args.number}' has no digits to look for")
    accounts = tuple(dict.fromkeys(a.strip() for a in args.account if a.strip()))
    users = tuple(dict.fromkeys(u.strip() for u in getattr(args, "user", []) if u.strip()))
    return HistoryQuery(
        users=users,
        since=since,
        until=until,
        accounts=accounts,
        statuses=parse_statuses(args.status),
        digits=number,
        descending=False,
    )


def run(args: argparse.Namespace, paths: AppPaths) -> int:
    from dialer.core.team import load_membership
    from dialer.history.store import TeamReads

    query = query_from_args(args)
    out = sys.stdout
    team = load_membership(paths.config_dir) is not None
    if query.users and not team:
        raise InvalidInput(
            "--user filters a team history, and this profile is not in a team ('dialer team join')"
        )
    try:
        from dialer.history.factory import history_exists, open_history

        if not history_exists(paths):  # nothing placed yet: do not create it to say so
            return _write(args, iter(()), HistoryTotals(), out, team=team)
        history = open_history(paths.ensure())
        contacts = _open_contacts(paths)
        try:
            if team:
                _say_where_from(history)
            table = not (args.csv or args.json)
            totals = history.totals(query) if table else HistoryTotals()
            records = history.iter_records(query)
            code = _write(args, records, totals, out, team=team, contacts=contacts)
            if table and isinstance(history, TeamReads):
                write_people(history.totals_by_person(query), out)
            return code
        finally:
            history.close()
            if contacts is not None:
                contacts.close()
    except BrokenPipeError:
        # The reader had enough (``dialer history | head``): not an error. Point stdout at
        # nothing so that Python's own flush at exit does not complain either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        return 0


def _open_contacts(paths: AppPaths) -> ContactStore | None:
    """The profile's contact book, which names the customers; None when it has none yet
    (a listing does not create one)."""
    from dialer.core.contacts import ContactStore

    return ContactStore(paths.contacts_db) if paths.contacts_db.exists() else None


def _say_where_from(history: object) -> None:
    """A joined desktop reads the team's history; while that cannot be reached, its own
    (and says so on stderr, so that an export's output stays clean)."""
    from dialer.history.team_store import TeamHistory

    if not isinstance(history, TeamHistory):
        return
    if history.wait_for_first_try(history.team_timeout) is not True:
        state = history.state()
        print(
            f"dialer: {state.problem or 'the team history cannot be reached'}; "
            "showing this desktop's own calls",
            file=sys.stderr,
        )


def _write(
    args: argparse.Namespace,
    records: Iterator[CallRecord],
    totals: HistoryTotals,
    out: TextIO,
    *,
    team: bool = False,
    contacts: ContactStore | None = None,
) -> int:
    from dialer.history.export import write_csv, write_json

    if args.csv:
        # The csv module ends rows with \r\n itself; newline translation would double the \r.
        reconfigure = getattr(out, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(newline="")
        write_csv(records, out, team=team, contacts=contacts)
    elif args.json:
        write_json(records, out, team=team, contacts=contacts)
    else:
        write_table(records, totals, out, team=team, contacts=contacts)
    out.flush()
    return 0


# (header, width) of the table's columns; longer values are cut with an ellipsis.
_TABLE = (
    ("When", 19),
    ("Account", 16),
    ("Status", 16),
    ("Customer", 18),
    ("Contact", 26),
    ("Agent", 18),
    ("Bridge", 14),
    ("Talk", 8),
    ("Billed", 8),
    ("Disposition", 14),
    ("Origin", 7),
)


def _cell(text: str, width: int) -> str:
    # Report data comes from providers: no control characters (escape sequences) reach the
    # terminal, and a cell is one line.
    text = " ".join(text.split())
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= width else text[: width - 1] + "…"


def write_people(by_person: dict[str, HistoryTotals], out: TextIO) -> None:
    """A team history's totals for each person who placed calls (after the table)."""
    if len(by_person) < 2 and "" not in by_person:
        return  # one person: the line above says it all
    width = max(len(p or "(outside the app)") for p in by_person)
    for person, totals in sorted(by_person.items()):
        out.write(
            f"  {(person or '(outside the app)').ljust(width)}  {totals.calls} calls, "
            f"{totals.answered} answered ({totals.answered_rate:.0%}), "
            f"talk {format_duration(totals.talk_seconds)}\n"
        )
    out.flush()


def write_table(
    records: Iterable[CallRecord],
    totals: HistoryTotals,
    out: TextIO,
    *,
    team: bool = False,
    contacts: ContactStore | None = None,
) -> int:
    from dialer.history.export import contact_text, with_owners

    table = (*_TABLE[:1], ("User", 16), *_TABLE[1:]) if team else _TABLE
    widths = [width for _, width in table]
    out.write("  ".join(h.ljust(w) for h, w in table).rstrip() + "\n")
    count = 0
    for record, owner in with_owners(records, contacts):
        when = local_text(record.created_at, "?")
        customer = f"flow:{record.flow_id} {record.customer}" if record.flow_id else record.customer
        values = (
            when,
            *((record.user,) if team else ()),
            record.account,
            str(record.status),
            customer,
            contact_text(owner),
            record.agent or "",
            record.bridge or "",
            format_duration(record.talk_seconds),
            format_duration(record.billed_seconds),
            record.disposition,
            str(record.origin),
        )
        cells = [_cell(v, w).ljust(w) for v, w in zip(values, widths, strict=True)]
        out.write("  ".join(cells).rstrip() + "\n")
        count += 1
    if count == 0:
        out.write("No calls match.\n")
        return 0
    average = format_duration(totals.average_talk_seconds) if totals.answered else "-"
    out.write(
        f"{totals.calls} calls, {totals.answered} answered ({totals.answered_rate:.0%}), "
        f"talk {format_duration(totals.talk_seconds)} (average {average}), "
        f"billed {format_duration(totals.billed_seconds)}\n"
    )
    return count
