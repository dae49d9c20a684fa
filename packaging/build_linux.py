"""Build the Linux artefacts in one command: the PyInstaller one-folder app, a tarball, a .deb.

Usage, from the repository root::

    .venv/bin/pip install -e '.[packaging]'
    .venv/bin/python packaging/build_linux.py            # PyInstaller, then tarball and .deb
    .venv/bin/python packaging/build_linux.py --skip-pyinstaller   # repackage dist/dialer
    .venv/bin/python packaging/build_linux.py --no-deb   # no dpkg-deb on this machine

It writes only under ``build/`` and ``dist/``:

- ``dist/dialer/``: the app (``dist/dialer/dialer`` runs it);
- ``dist/dialer-<version>-linux-x86_64.tar.gz``: that folder, the ``.desktop`` file and the
  icon in an XDG layout, and ``INSTALL.txt`` (a per-user install in six commands);
- ``dist/dialer_<version>_amd64.deb``: the app in ``/opt/dialer``, ``/usr/bin/dialer``, the
  desktop entry (``Exec=/usr/bin/dialer %u``, the tel/callto/sip ``MimeType``) and the icon;
  its scripts refresh the desktop database and icon cache when those tools are installed.

The build machine needs the libraries of Qt's xcb and Wayland plugins (PyInstaller copies
them into the bundle, and silently leaves out a plugin whose libraries are missing); the
build stops with the ``apt-get install`` line when one is missing. Then
``packaging/smoke_test.py`` checks the result.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
BUILD = ROOT / "build"
SPEC = ROOT / "packaging" / "dialer.spec"
RESOURCES = ROOT / "resources"
BUNDLE_NAME = "dialer"
INSTALL_PREFIX = "/opt/dialer"

# The Qt plugins the bundle must carry on Linux, and the Debian packages of the system
# libraries they link to (as on Debian 12 / Ubuntu 22.04 and later).
LINUX_QT_PLUGINS = (
    "platforms/libqxcb.so",
    "platforms/libqwayland.so",
    "xcbglintegrations/libqxcb-glx-integration.so",
    "wayland-shell-integration/libxdg-shell.so",
)
DEBIAN_PACKAGE_OF = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}

# What the .deb needs from the system: only what PyInstaller never bundles (glibc, the
# OpenGL/EGL dispatch libraries that come with the graphics driver, libxcb itself); the xcb
# utility libraries, xkbcommon, fontconfig and the rest travel inside /opt/dialer.
DEB_DEPENDS = ("libgl1", "libegl1", "libxcb1")
# A Secret Service for the keyring (the dialer stores secrets nowhere else), and the tools
# the package scripts use when present.
DEB_RECOMMENDS = ("gnome-keyring | kwalletmanager | keepassxc", "desktop-file-utils", "xdg-utils")
DEB_MAINTAINER = os.environ.get("DIALER_DEB_MAINTAINER", "Dialer maintainers <dialer@example.com>")
DEB_DESCRIPTION = """Desktop click-to-call dialer
 Pick a contact: your own phone rings, then the customer's. Drives the C2C v2,
 Click2Call v1, Kazoo and DigiDonar click-to-call services, keeps a call
 history with the providers' reports, and opens tel:, callto: and sip: links.
 Secrets are kept only in the desktop's keyring (Secret Service)."""

SCHEME_HANDLERS = ("tel", "callto", "sip")

POSTINST = """#!/bin/sh
# Refresh the desktop's caches so the menu entry, the icon and the tel:/callto:/sip: handler
# show up. Choosing the default handler is each user's (xdg-mime default, or the app's
# settings): a package must not change it for everyone.
set -e
if [ "$1" = "configure" ]; then
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q /usr/share/applications || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
    fi
fi
exit 0
"""

POSTRM = """#!/bin/sh
set -e
if [ "$1" = "remove" ] || [ "$1" = "purge" ]; then
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q /usr/share/applications || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true
    fi
fi
exit 0
"""


class BuildError(Exception):
    """Why the build cannot go on, in one sentence."""


def project_version() -> str:
    """``dialer.__version__``, read from the source (the build does not import the app)."""
    text = (ROOT / "dialer" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE)
    if match is None:
        raise BuildError("dialer/__init__.py has no __version__ line")
    return match.group(1)


def tarball_name(version: str) -> str:
    return f"dialer-{version}-linux-x86_64.tar.gz"


def deb_name(version: str) -> str:
    return f"dialer_{version}_amd64.deb"


# -- checks before building ----------------------------------------------------------------------


def missing_qt_libraries(qt_dir: Path) -> dict[str, str]:
    """System libraries the kept Qt plugins link to that this machine lacks: name -> the
    Debian package that has it (or '?')."""
    missing: dict[str, str] = {}
    env = {**os.environ, "LD_LIBRARY_PATH": str(qt_dir / "lib")}
    for plugin in LINUX_QT_PLUGINS:
        path = qt_dir / "plugins" / plugin
        if not path.is_file():
            continue
        output = subprocess.run(  # noqa: S603 - fixed arguments
            ["ldd", str(path)],  # noqa: S607 - ldd comes with glibc
            capture_output=True,
            text=True,
            env=env,
            check=False,
        ).stdout
        for line in output.splitlines():
            name, _, where = line.strip().partition(" => ")
            if where.strip() == "not found":
                missing[name] = DEBIAN_PACKAGE_OF.get(name, "?")
    return missing


def check_build_machine() -> None:
    try:
        import PyInstaller  # noqa: F401
        import PySide6
    except ImportError as exc:
        raise BuildError(
            f"{exc.name} is not installed in {sys.executable}; run "
            ".venv/bin/pip install -e '.[packaging]' and use .venv/bin/python"
        ) from None
    if not sys.platform.startswith("linux"):
        raise BuildError("this script builds the Linux artefacts; see packaging/README.md")
    missing = missing_qt_libraries(Path(PySide6.__file__).parent / "Qt")
    if missing:
        packages = sorted({package for package in missing.values() if package != "?"})
        unknown = sorted(name for name, package in missing.items() if package == "?")
        hint = f"apt-get install {' '.join(packages)}" if packages else ""
        if unknown:
            hint += ("; and whatever provides " if hint else "install ") + ", ".join(unknown)
        raise BuildError(
            "Qt's xcb/Wayland plugins need libraries this machine lacks "
            f"({', '.join(sorted(missing))}), and the bundle would start on no desktop: {hint}"
        )


def run_pyinstaller() -> Path:
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(DIST),
            "--workpath",
            str(BUILD / "pyinstaller"),
            str(SPEC),
        ],
        check=True,
        cwd=ROOT,
    )
    return DIST / BUNDLE_NAME


# -- what goes into the packages -------------------------------------------------------------


def desktop_entry(exec_path: str) -> str:
    """resources/dialer.desktop with its Exec line pointing at ``exec_path``."""
    text = (RESOURCES / "dialer.desktop").read_text(encoding="utf-8")
    text, count = re.subn(r"^Exec=.*$", f"Exec={exec_path} %u", text, flags=re.MULTILINE)
    if count != 1:
        raise BuildError("resources/dialer.desktop must have exactly one Exec line")
    return text


def glibc_floor(bundle: Path) -> str | None:
    """The newest glibc symbol version any bundled binary asks for (the .deb's libc6 floor)."""
    newest: tuple[int, ...] = ()
    for path in bundle.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
            data = handle.read()
        for match in re.finditer(rb"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?", data):
            newest = max(newest, tuple(int(part) for part in match.groups() if part))
    return ".".join(map(str, newest)) if newest else None


def installed_size_kib(root: Path) -> int:
    total = sum(
        path.lstat().st_size for path in root.rglob("*") if path.is_file() or path.is_symlink()
    )
    return max(1, (total + 1023) // 1024)


def deb_control(version: str, installed_size: int, glibc: str | None = None) -> str:
    """The DEBIAN/control file."""
    libc = f"libc6 (>= {glibc})" if glibc else "libc6"
    fields = {
        "Package": "dialer",
        "Version": version,
        "Architecture": "amd64",
        "Maintainer": DEB_MAINTAINER,
        "Installed-Size": str(installed_size),
        "Depends": ", ".join((libc, *DEB_DEPENDS)),
        "Recommends": ", ".join(DEB_RECOMMENDS),
        "Section": "comm",
        "Priority": "optional",
        "Description": DEB_DESCRIPTION,
    }
    return "".join(f"{key}: {value}\n" for key, value in fields.items())


def install_note(version: str) -> str:
    top = f"dialer-{version}"
    return f"""Dialer {version} for Linux (x86_64)

The app is the folder {top}/: run {top}/dialer. It needs no installation, only a
desktop with X11 or Wayland (glibc, libGL/libEGL and libxcb come with every desktop).
On Debian and Ubuntu, the .deb package of the same version installs it system-wide.

Install for one user, with the menu entry and tel:, callto:, sip: links:

    mkdir -p ~/.local/opt ~/.local/bin ~/.local/share/applications
    tar -xzf {tarball_name(version)} -C ~/.local/opt
    ln -sfn ~/.local/opt/{top}/dialer ~/.local/bin/dialer
    cp -r ~/.local/opt/{top}/share/icons ~/.local/share/
    sed "s|^Exec=.*|Exec=$HOME/.local/bin/dialer %u|" \\
        ~/.local/opt/{top}/share/applications/dialer.desktop \\
        > ~/.local/share/applications/dialer.desktop
    update-desktop-database ~/.local/share/applications

Then make Dialer the handler of telephone links (the app's settings can do it too):

    xdg-mime default dialer.desktop {" ".join(f"x-scheme-handler/{s}" for s in SCHEME_HANDLERS)}

Check the installation: dialer --self-test (starts Qt offscreen, finds the keyring, places
a call on the built-in simulator; nothing leaves the machine).

Secrets are stored only in the desktop's keyring (GNOME Keyring, KWallet, KeePassXC).

To uninstall: rm -r ~/.local/opt/{top} ~/.local/bin/dialer
~/.local/share/applications/dialer.desktop ~/.local/share/icons/hicolor/scalable/apps/dialer.svg
"""


# -- the packages --------------------------------------------------------------------------------


def _root_owned(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def _add_text(archive: tarfile.TarFile, name: str, text: str, mode: int = 0o644) -> None:
    data = text.encode("utf-8")
    info = _root_owned(tarfile.TarInfo(name))
    info.size = len(data)
    info.mode = mode
    archive.addfile(info, io.BytesIO(data))


def build_tarball(bundle: Path, version: str, out_dir: Path) -> Path:
    """The one folder plus the desktop entry, the icon and INSTALL.txt, under dialer-<v>/."""
    top = f"dialer-{version}"
    target = out_dir / tarball_name(version)
    with tarfile.open(target, "w:gz") as archive:
        archive.add(bundle, arcname=top, filter=_root_owned)
        _add_text(archive, f"{top}/share/applications/dialer.desktop", desktop_entry("dialer"))
        archive.add(
            RESOURCES / "dialer.svg",
            arcname=f"{top}/share/icons/hicolor/scalable/apps/dialer.svg",
            filter=_root_owned,
        )
        _add_text(archive, f"{top}/INSTALL.txt", install_note(version))
    return target


def build_deb(bundle: Path, version: str, out_dir: Path, work_dir: Path) -> Path:
    """Lay the package tree out under ``work_dir`` and run dpkg-deb on it."""
    dpkg_deb = shutil.which("dpkg-deb")
    if dpkg_deb is None:
        raise BuildError("dpkg-deb is not installed (apt-get install dpkg), so no .deb was built")
    root = work_dir / f"dialer_{version}_amd64"
    if root.exists():
        shutil.rmtree(root)
    opt = root / INSTALL_PREFIX.lstrip("/")
    shutil.copytree(bundle, opt, symlinks=True)
    usr_bin = root / "usr" / "bin"
    usr_bin.mkdir(parents=True)
    (usr_bin / "dialer").symlink_to(f"{INSTALL_PREFIX}/dialer")
    applications = root / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    (applications / "dialer.desktop").write_text(desktop_entry("/usr/bin/dialer"), "utf-8")
    icons = root / "usr" / "share" / "icons" / "hicolor" / "scalable" / "apps"
    icons.mkdir(parents=True)
    shutil.copyfile(RESOURCES / "dialer.svg", icons / "dialer.svg")
    control_dir = root / "DEBIAN"
    control_dir.mkdir()
    size = installed_size_kib(root)
    (control_dir / "control").write_text(deb_control(version, size, glibc_floor(opt)), "utf-8")
    for name, script in (("postinst", POSTINST), ("postrm", POSTRM)):
        (control_dir / name).write_text(script, "utf-8")
        (control_dir / name).chmod(0o755)
    for path in (root, *root.rglob("*")):  # dpkg-deb refuses group/world-writable folders
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    target = out_dir / deb_name(version)
    subprocess.run(  # noqa: S603 - fixed arguments
        [dpkg_deb, "--root-owner-group", "-Zxz", "--build", str(root), str(target)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return target


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1_000_000:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="build_linux.py", description=__doc__.split("\n", 1)[0] if __doc__ else None
    )
    parser.add_argument(
        "--skip-pyinstaller", action="store_true", help="package the existing dist/dialer"
    )
    parser.add_argument("--no-deb", action="store_true", help="build the tarball only")
    args = parser.parse_args(argv)
    try:
        version = project_version()
        if args.skip_pyinstaller:
            bundle = DIST / BUNDLE_NAME
            if not (bundle / "dialer").is_file():
                raise BuildError(f"there is no build at {bundle}; run without --skip-pyinstaller")
        else:
            check_build_machine()
            bundle = run_pyinstaller()
        artefacts = [bundle / "dialer", build_tarball(bundle, version, DIST)]
        if not args.no_deb:
            artefacts.append(build_deb(bundle, version, DIST, BUILD / "deb"))
    except BuildError as exc:
        print(f"build_linux.py: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"build_linux.py: {exc.cmd[0]} failed (exit code {exc.returncode})", file=sys.stderr)
        return 1
    files = [path for path in bundle.rglob("*") if path.is_file() and not path.is_symlink()]
    folder_size = sum(path.stat().st_size for path in files)
    print(f"{bundle}/  ({folder_size / 1_000_000:.1f} MB in {len(files)} files)")
    for path in artefacts[1:]:
        print(f"{path}  ({_size(path)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
