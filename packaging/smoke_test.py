"""Smoke test of the frozen build: run the real executable and check what it does.

Usage, from the repository root, after ``packaging/build_linux.py``::

    .venv/bin/python packaging/smoke_test.py                  # dist/dialer/dialer
    .venv/bin/python packaging/smoke_test.py --binary PATH    # another build
    .venv/bin/python packaging/smoke_test.py --binary dist/dialer/dialer.exe --version-only

Checks, each printed as ``ok`` or ``FAILED``; the exit code is 1 if any failed:

1. ``dialer --version`` prints ``dialer <version>`` (the version in dialer/__init__.py); its
   start-up time is measured (first run, then the median of five).
2. The bundle holds what freezing tends to lose (Qt's platform and SVG plugins, the keyring's
   metadata, resources/) and none of what was trimmed (QML, Quick, WebEngine, ...).
3. ``dialer --self-test`` exits 0 with QT_QPA_PLATFORM=offscreen, a throw-away DIALER_HOME
   and PYTHON_KEYRING_BACKEND unset, so the frozen keyring discovers its backends itself.
   On a machine without a D-Bus session (CI, a container) no backend is usable, and the
   self-test says so and passes: discovery worked, the machine has no keyring.
4. On X11 (under ``xvfb-run`` when it is installed): the same self-test on the ``xcb``
   platform, which loads the bundled X11 libraries a desktop uses.
5. With a real Secret Service (``dbus-run-session`` and ``gnome-keyring-daemon`` installed;
   a throw-away keyring in a temporary HOME): the self-test finds the SecretService
   backend, and ``dialer account add`` (secret from stdin) followed by ``dialer call``
   against the frozen ``dialer simulate`` proves the secret went into the keyring and back.

Checks 4 and 5 are reported as skipped when their tools are missing. Finally the bundle's
size (MB, file count) is printed. Nothing here asserts a time: the figures are reported.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BINARY = ROOT / "dist" / "dialer" / ("dialer.exe" if os.name == "nt" else "dialer")
TIMEOUT = 60.0  # seconds for any one run of the app; a healthy run takes one or two
SELF_TEST_CHECKS = ("qt", "icon", "keyring", "tls", "call")

# Pieces that must be in the bundle (relative to its folder, as globs), per platform.
REQUIRED = {
    "linux": {
        "Qt xcb platform plugin": "**/plugins/platforms/libqxcb.so",
        "Qt Wayland platform plugin": "**/plugins/platforms/libqwayland.so",
        "Qt offscreen platform plugin": "**/plugins/platforms/libqoffscreen.so",
        "Qt SVG icon engine": "**/plugins/iconengines/libqsvgicon.so",
    },
    "win32": {
        "Qt windows platform plugin": "**/plugins/platforms/qwindows.dll",
        "Qt SVG icon engine": "**/plugins/iconengines/qsvgicon.dll",
    },
    "darwin": {
        "Qt cocoa platform plugin": "**/plugins/platforms/libqcocoa.dylib",
        "Qt SVG icon engine": "**/plugins/iconengines/libqsvgicon.dylib",
    },
}
REQUIRED_EVERYWHERE = {
    "keyring metadata (backend entry points)": "**/keyring-*.dist-info/entry_points.txt",
    "the app's icon": "**/resources/dialer.svg",
    "the desktop entry": "**/resources/dialer.desktop",
}
# Trimmed from the bundle; finding one means the spec's exclusions stopped working.
FORBIDDEN = re.compile(
    r"Qt6?(Qml|Quick|WebEngine|3D|Multimedia|Pdf|Charts|DataVisualization|Designer|"
    r"VirtualKeyboard|Sql|Test)|/(qml|qmltooling|sqldrivers|printsupport|tls)/|\.qm$",
    re.IGNORECASE,
)


class SmokeFailure(Exception):
    """A failed check, in one sentence."""


def project_version() -> str:
    text = (ROOT / "dialer" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise SmokeFailure("dialer/__init__.py has no __version__ line")
    return match.group(1)


def run_app(
    command: Sequence[str], env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(  # noqa: S603 - the binary under test, fixed arguments
            list(command),
            capture_output=True,
            text=True,
            input=stdin,
            env=env,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SmokeFailure(f"{' '.join(command)} did not finish within {TIMEOUT:g} s") from None


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The caller's environment with a throw-away DIALER_HOME and no keyring override."""
    env = {**os.environ, "DIALER_HOME": str(home), **extra}
    env.pop("PYTHON_KEYRING_BACKEND", None)
    return env


def indented(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.rstrip().splitlines())


def expect_self_test_passed(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stdout.splitlines()
    missing = [
        name for name in SELF_TEST_CHECKS if not any(ln.startswith(f"{name}: ok") for ln in lines)
    ]
    if result.returncode != 0 or missing:
        raise SmokeFailure(
            f"--self-test exited {result.returncode} (checks not ok: {', '.join(missing)})\n"
            + indented(result.stdout + result.stderr)
        )
    return indented(result.stdout)


# -- the checks ---------------------------------------------------------------------------------


def check_version(binary: Path) -> str:
    expected = f"dialer {project_version()}"
    timings = []
    for _ in range(6):
        started = time.perf_counter()
        result = run_app([str(binary), "--version"])
        timings.append(time.perf_counter() - started)
        if result.returncode != 0 or result.stdout.strip() != expected:
            raise SmokeFailure(
                f"--version exited {result.returncode} and printed {result.stdout.strip()!r} "
                f"(expected {expected!r}){result.stderr and ': ' + result.stderr.strip()}"
            )
    first, rest = timings[0], statistics.median(timings[1:])
    return f"{expected!r}; start-up {first * 1000:.0f} ms first run, {rest * 1000:.0f} ms median"


def bundle_folder(binary: Path) -> Path:
    folder = binary.resolve().parent
    if folder.name == "MacOS":  # Dialer.app/Contents/MacOS/dialer: the bundle is Contents
        return folder.parent
    return folder


def check_contents(binary: Path) -> str:
    folder = bundle_folder(binary)
    platform = "linux" if sys.platform.startswith("linux") else sys.platform
    wanted = {**REQUIRED.get(platform, {}), **REQUIRED_EVERYWHERE}
    absent = [what for what, pattern in wanted.items() if next(folder.glob(pattern), None) is None]
    if absent:
        raise SmokeFailure(f"the bundle lacks {', '.join(absent)}")
    trimmed = sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if FORBIDDEN.search(path.relative_to(folder).as_posix())
    )
    if trimmed:
        raise SmokeFailure(f"trimmed Qt pieces are back in the bundle: {', '.join(trimmed[:8])}")
    return f"{len(wanted)} required pieces present; no QML/Quick/WebEngine/3D/SQL/TLS/translations"


def check_self_test(binary: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="dialer-smoke-") as tmp:
        env = clean_env(Path(tmp) / "home", QT_QPA_PLATFORM="offscreen")
        return expect_self_test_passed(run_app([str(binary), "--self-test"], env))


def check_self_test_xcb(binary: Path) -> str | None:
    command = [str(binary), "--self-test"]
    if not os.environ.get("DISPLAY"):
        xvfb_run = shutil.which("xvfb-run")
        if xvfb_run is None:
            return None
        command = [xvfb_run, "-a", *command]
    with tempfile.TemporaryDirectory(prefix="dialer-smoke-") as tmp:
        env = clean_env(Path(tmp) / "home", QT_QPA_PLATFORM="xcb")
        return expect_self_test_passed(run_app(command, env))


KEYRING_SCRIPT = """
set -e
# A throw-away login keyring, unlocked with a throw-away password (this test's, not a user's).
printf smoke | gnome-keyring-daemon --unlock --components=secrets > /dev/null
exec "$@"
"""


def check_secret_service(binary: Path) -> str | None:
    tools = [shutil.which(name) for name in ("dbus-run-session", "gnome-keyring-daemon")]
    if None in tools or not sys.platform.startswith("linux"):
        return None
    with tempfile.TemporaryDirectory(prefix="dialer-smoke-") as tmp:
        home = Path(tmp)
        runtime = home / "run"
        runtime.mkdir(mode=0o700)
        env = clean_env(
            home / "dialer-home",
            HOME=str(home),
            XDG_DATA_HOME=str(home / "data"),
            XDG_CONFIG_HOME=str(home / "config"),
            XDG_RUNTIME_DIR=str(runtime),
            QT_QPA_PLATFORM="offscreen",
        )
        inner = [sys.executable, str(Path(__file__).resolve()), "--binary", str(binary)]
        command = [str(tools[0]), "--", "sh", "-c", KEYRING_SCRIPT, "sh", *inner]
        result = run_app([*command, "--inside-keyring-session"], env)
        if result.returncode != 0:
            raise SmokeFailure(indented(result.stdout + result.stderr))
        return indented(result.stdout)


def _inside_keyring_session(binary: Path) -> int:
    """Run by check_secret_service inside its D-Bus session with gnome-keyring running."""
    env = dict(os.environ)
    self_test = run_app([str(binary), "--self-test"], env)
    print(next((ln for ln in self_test.stdout.splitlines() if ln.startswith("keyring:")), ""))
    if "keyring.backends.SecretService" not in self_test.stdout:
        print("FAILED: the self-test did not find the SecretService backend")
        print(self_test.stdout + self_test.stderr)
        return 1
    simulator = subprocess.Popen(  # noqa: S603 - the binary under test, fixed arguments
        [str(binary), "simulate", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert simulator.stdout is not None
        first_line = simulator.stdout.readline()
        match = re.search(r"listening on (http://\S+?)/? ", first_line)
        if match is None:
            print(f"FAILED: dialer simulate printed {first_line!r}")
            return 1
        base = match.group(1)
        # The simulator's published demo account (see `dialer simulate`), its token on stdin.
        account = ["smoke", "--provider", "c2c-v2", "--url", f"{base}/api/v2", "--region", "IN"]
        phones = ["--agent", "+919876543210", "--bridge", "918068280000"]
        add = run_app(
            [str(binary), "account", "add", *account, *phones],
            env,
            stdin="sim-c2c-token\n",
        )
        call = run_app([str(binary), "call", "+918867135000", "--account", "smoke"], env)
        remove = run_app([str(binary), "account", "remove", "smoke"], env)
    finally:
        simulator.terminate()
        simulator.wait(timeout=TIMEOUT)
    for step, result in (("account add", add), ("call", call), ("account remove", remove)):
        if result.returncode != 0:
            print(f"FAILED: dialer {step} exited {result.returncode}: {result.stderr.strip()}")
            return 1
    print(f"account add: {add.stdout.strip()}")
    print(f"call (secret read back from the keyring): {call.stdout.strip()}")
    print(f"account remove: {remove.stdout.strip()}")
    return 0


def bundle_size(binary: Path) -> str:
    folder = bundle_folder(binary)
    files = [path for path in folder.rglob("*") if path.is_file() and not path.is_symlink()]
    total = sum(path.stat().st_size for path in files)
    return f"{total / 1_000_000:.1f} MB in {len(files)} files ({folder})"


# -- the whole ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smoke_test.py", description="Smoke-test a build.")
    parser.add_argument("--binary", type=Path, default=DEFAULT_BINARY)
    parser.add_argument(
        "--version-only", action="store_true", help="only --version (a windowed build, CI)"
    )
    parser.add_argument("--inside-keyring-session", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    binary: Path = args.binary.resolve()
    if args.inside_keyring_session:
        return _inside_keyring_session(binary)
    if not binary.is_file():
        print(f"smoke_test.py: no build at {binary}; run packaging/build_linux.py first")
        return 1
    checks: list[tuple[str, Callable[[Path], str | None]]] = [("--version", check_version)]
    if not args.version_only:
        checks += [
            ("bundle contents", check_contents),
            ("--self-test (offscreen, keyring discovery)", check_self_test),
            ("--self-test on X11 (xcb)", check_self_test_xcb),
            ("keyring round trip with a Secret Service", check_secret_service),
        ]
    failed = 0
    for name, check in checks:
        try:
            detail = check(binary)
        except SmokeFailure as exc:
            failed += 1
            print(f"FAILED  {name}: {exc}", flush=True)
            continue
        if detail is None:
            print(f"skipped {name}: the tools it needs are not installed", flush=True)
        elif "\n" in detail:
            print(f"ok      {name}\n{detail}", flush=True)
        else:
            print(f"ok      {name}: {detail}", flush=True)
    print(f"bundle size: {bundle_size(binary)}")
    print("smoke test FAILED" if failed else "smoke test passed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
