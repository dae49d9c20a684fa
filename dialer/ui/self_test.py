"""``dialer --self-test``: does this installation work? The same checks from source and frozen.

It starts Qt (offscreen unless ``QT_QPA_PLATFORM`` says otherwise) and shows a window with
the app's icon, finds the OS keyring backend, builds the TLS context the providers use, and
places one real call through :class:`~dialer.app.service.CallService` on the built-in
provider simulator over loopback, on the same Qt-driven asyncio loop the window runs, whose
report comes back through the webhook receiver.

Each check prints one line, ``NAME: ok (...)`` or ``NAME: FAILED: <sentence>``; the exit code
is 0 only when all passed. Everything it writes goes to a throw-away ``DIALER_HOME``; it
never reads or writes a secret in the OS keyring.

The keyring check passes when backend *discovery* works (the backends are registered and the
platform's native one imports), even if no backend is usable on this machine (a headless
Linux box has no D-Bus session, so no Secret Service): that is a property of the machine,
not of the installation, and the line says so in words. It fails when the backends are
missing from the build or ``PYTHON_KEYRING_BACKEND`` names one that cannot be loaded.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialer import __version__

CALL_TIMEOUT = 10.0  # seconds; a loopback call takes a few milliseconds
SELF_TEST_NUMBER = "+91 88671 35000"
# The platform's own keyring backend: the one whose absence from a frozen build matters.
NATIVE_KEYRING = {
    "linux": ("keyring.backends.SecretService", "Keyring"),
    "win32": ("keyring.backends.Windows", "WinVaultKeyring"),
    "darwin": ("keyring.backends.macOS", "Keyring"),
}
# Offscreen has no window manager to pass size hints to; Qt warns about it on every show().
_EXPECTED_QT_NOISE = ("does not support propagateSizeHints",)


class CheckFailed(Exception):
    """A check's failure, in one sentence for the user."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        if self.ok:
            return f"{self.name}: ok ({self.detail})"
        return f"{self.name}: FAILED: {self.detail}"


def _run_check(name: str, check: Callable[[], str]) -> CheckResult:
    try:
        detail = check()
    except CheckFailed as exc:
        result = CheckResult(name, ok=False, detail=str(exc))
    except Exception as exc:  # any other failure is still one line, never a traceback
        from dialer.core.redact import scrub

        text = scrub(str(exc)) or "no message"
        result = CheckResult(name, ok=False, detail=f"{type(exc).__name__}: {text}")
    else:
        result = CheckResult(name, ok=True, detail=detail)
    print(result.line(), flush=True)
    return result


@contextmanager
def _throwaway_home() -> Iterator[Path]:
    """A temporary DIALER_HOME for the duration, so the user's files are never touched."""
    previous = os.environ.get("DIALER_HOME")
    with tempfile.TemporaryDirectory(prefix="dialer-self-test-") as tmp:
        os.environ["DIALER_HOME"] = tmp
        try:
            yield Path(tmp)
        finally:
            if previous is None:
                os.environ.pop("DIALER_HOME", None)
            else:
                os.environ["DIALER_HOME"] = previous


def _where() -> str:
    if getattr(sys, "frozen", False):
        return f"frozen build at {Path(sys.executable).resolve().parent}"
    return f"from source, Python {sys.version.split()[0]} at {sys.executable}"


# -- Qt ---------------------------------------------------------------------------------------


def _qt_messages_to_stderr() -> Any:
    """Qt's warnings on stderr (stdout carries the check lines); a fatal one (no platform
    plugin) becomes a FAILED line before Qt aborts the process."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        if kind == QtMsgType.QtFatalMsg:
            print(f"qt: FAILED: Qt stopped the process: {message}", flush=True)
        elif kind in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg) and not any(
            noise in message for noise in _EXPECTED_QT_NOISE
        ):
            print(f"qt warning: {message}", file=sys.stderr, flush=True)

    return qInstallMessageHandler(handler)


def _check_qt(holder: list[Any]) -> str:
    from PySide6.QtCore import qVersion
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    holder.append(app)
    window = QLabel("Dialer self-test")
    window.setWindowTitle("Dialer self-test")
    window.show()
    app.processEvents()
    if not window.isVisible():
        raise CheckFailed(f"a window could not be shown on the '{app.platformName()}' platform")
    window.close()
    window.deleteLater()
    app.processEvents()
    return f"Qt {qVersion()}, '{app.platformName()}' platform: a window shown and closed"


def _check_icon() -> str:
    from PySide6.QtGui import QIcon

    from dialer.core.resources import resources_dir

    path = resources_dir() / "dialer.svg"
    if not path.is_file():
        raise CheckFailed(f"the app's icon is missing (looked for {path})")
    # Drawing it needs Qt's SVG icon engine plugin: the one a trimmed bundle could lose.
    pixmap = QIcon(str(path)).pixmap(32, 32)
    if pixmap.isNull():
        raise CheckFailed(f"the app's icon at {path} could not be drawn (no SVG support in Qt)")
    return f"{path} drawn"


# -- keyring ----------------------------------------------------------------------------------


def _native_keyring_problem() -> tuple[str, str]:
    """The native backend's name and why it is not usable here ('' when it is)."""
    platform = "linux" if sys.platform.startswith("linux") else sys.platform
    module_name, class_name = NATIVE_KEYRING.get(platform, ("", ""))
    if not module_name:
        return "", ""
    short = module_name.rsplit(".", 1)[1]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CheckFailed(
            f"the {short} keyring backend is missing from this installation ({exc})"
        ) from None
    try:
        getattr(module, class_name).priority  # noqa: B018 - raises with the reason when not viable
    except Exception as exc:
        return short, str(exc) or type(exc).__name__
    return short, ""


def _check_keyring() -> str:
    from importlib.metadata import entry_points

    import keyring
    from keyring.backends import fail

    try:
        backend = keyring.get_keyring()
    except Exception as exc:
        chosen = os.environ.get("PYTHON_KEYRING_BACKEND")
        source = f"PYTHON_KEYRING_BACKEND={chosen}" if chosen else "the keyring configuration"
        raise CheckFailed(
            f"the keyring backend named by {source} could not be loaded "
            f"({type(exc).__name__}: {exc})"
        ) from None
    registered = sorted(ep.name for ep in entry_points(group="keyring.backends"))
    if not registered:
        raise CheckFailed(
            "no keyring backends are registered: the keyring package's metadata is missing "
            "from this installation"
        )
    native, problem = _native_keyring_problem()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(backend, fail.Keyring):
        reason = f" ({native}: {problem})" if native and problem else ""
        return (
            f"backend discovery works (registered: {', '.join(registered)}), but no keyring "
            f"is usable on this machine{reason}: accounts cannot be added here until one is"
        )
    return f"backend {name}, priority {backend.priority:g}"


# -- TLS ----------------------------------------------------------------------------------------


def _check_tls() -> str:
    import ssl

    import truststore

    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if context.verify_mode != ssl.CERT_REQUIRED:
        raise CheckFailed("the TLS context does not verify certificates")
    return f"the OS trust store (truststore {truststore.__version__}), {ssl.OPENSSL_VERSION}"


# -- a call -------------------------------------------------------------------------------------


async def _place_call(home: Path) -> str:
    from dialer.app.demo import demo_accounts, demo_secrets
    from dialer.app.service import CallService
    from dialer.core.accounts import ProviderKind
    from dialer.core.calls import CallStatus
    from dialer.core.paths import AppPaths
    from dialer.history.factory import open_history
    from dialer.simulator.model import SimulatorConfig
    from dialer.simulator.server import ProviderSimulator
    from dialer.webhooks.receiver import WebhookReceiver
    from dialer.webhooks.settings import new_path_token

    async with ProviderSimulator(SimulatorConfig()) as sim:
        accounts = demo_accounts(sim)
        account = next(a for a in accounts.list() if a.provider is ProviderKind.C2C_V2)
        history = open_history(AppPaths.under(home).ensure())
        # The simulator's published demo credentials, in memory: the OS keyring is not touched.
        secrets = demo_secrets(sim)
        service = CallService(accounts, secrets, history)
        # The call's report comes back through the webhook receiver, as in the app (its HTTP
        # server is one more thing a frozen build could have lost).
        receiver = WebhookReceiver(history, accounts, secrets, path_token=new_path_token())
        try:
            sim.config.default_webhook_url = await receiver.start()
            async with asyncio.timeout(CALL_TIMEOUT):
                record = await service.place_call(SELF_TEST_NUMBER, account=account.name)
            if record.status is not CallStatus.ACCEPTED or not record.provider_ref:
                raise CheckFailed(f"the simulator did not accept the call ({record.status})")
            sim_call = await sim.wait_call_finished(record.provider_ref, timeout=CALL_TIMEOUT)
            stored = history.get(record.id)
            if stored is None or stored.provider_ref != record.provider_ref:
                raise CheckFailed("the call was accepted but not found in the history file")
            await _reported(history, record.id)
        finally:
            await receiver.stop()
            await service.aclose()
            history.close()
        return (
            f"{account.provider} call to {record.customer} accepted by the built-in simulator "
            f"at {sim.base_url}, {sim_call.state} there, stored in the history, its report "
            "received by the webhook receiver"
        )


async def _reported(history: Any, call_id: str) -> None:
    """Wait until the call's report has been stored (the simulator pushes it as the call
    ends)."""
    from dialer.history.store import final_record

    try:
        await final_record(history, call_id, CALL_TIMEOUT)
    except TimeoutError:
        raise CheckFailed(
            f"the call's report did not reach the webhook receiver in {CALL_TIMEOUT:.0f} s"
        ) from None


def _check_call(home: Path, app: Any) -> str:
    if app is None:  # Qt failed (already reported): the call still says whether the core works
        return asyncio.run(_place_call(home))
    from dialer.core.threads import DaemonThreadExecutor
    from dialer.ui.event_loop import QEventLoop

    with asyncio.Runner(loop_factory=lambda: QEventLoop(app)) as runner:
        runner.get_loop().set_default_executor(DaemonThreadExecutor())
        return runner.run(_place_call(home))


# -- the whole -----------------------------------------------------------------------------------


def run_self_test() -> int:
    """Run every check, print one line each and a summary; 0 only if all passed."""
    started = time.perf_counter()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")  # before qasync is imported
    print(f"dialer {__version__} self-test, {_where()}", flush=True)
    results: list[CheckResult] = []
    holder: list[Any] = []
    previous_handler = _qt_messages_to_stderr()
    try:
        with _throwaway_home() as home:
            results.append(_run_check("qt", lambda: _check_qt(holder)))
            results.append(_run_check("icon", _check_icon))
            results.append(_run_check("keyring", _check_keyring))
            results.append(_run_check("tls", _check_tls))
            app = holder[0] if holder else None
            results.append(_run_check("call", lambda: _check_call(home, app)))
    finally:
        from PySide6.QtCore import qInstallMessageHandler

        qInstallMessageHandler(previous_handler)
    failed = [result.name for result in results if not result.ok]
    elapsed = time.perf_counter() - started
    if failed:
        print(f"self-test FAILED: {', '.join(failed)} ({elapsed:.1f} s)", flush=True)
        return 1
    print(f"self-test passed: {len(results)} checks in {elapsed:.1f} s", flush=True)
    return 0
