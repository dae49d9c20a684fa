"""The installers' files, checked where their platform cannot run here.

The macOS bundle and the Windows installer cannot be built on Linux, so their inputs are
checked for the keys that make tel:, callto: and sip: links reach the app. The Linux
packages are built for real (from a small stand-in bundle: the real one takes minutes, and
``packaging/smoke_test.py`` runs that) and read back with dpkg-deb and tarfile. The
PyInstaller spec is executed with stand-ins for PyInstaller's build classes (PyInstaller is
not a test dependency) to check what it keeps and drops.
"""

from __future__ import annotations

import importlib.util
import os
import plistlib
import re
import shutil
import subprocess
import sys
import tarfile
import types
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
SCHEMES = ("tel", "callto", "sip")
APP_COMMAND = '"{app}\\dialer.exe" "%1"'


def load_script(name: str) -> types.ModuleType:
    """A packaging/ script as a module (packaging/ is not a package: the name would shadow
    the ``packaging`` library)."""
    spec = importlib.util.spec_from_file_location(f"packaging_script_{name}", PACKAGING / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_linux = load_script("build_linux.py")
smoke_test = load_script("smoke_test.py")


# -- macOS: Info.plist ---------------------------------------------------------------------------


def test_info_plist_declares_the_url_schemes() -> None:
    with (PACKAGING / "macos" / "Info.plist").open("rb") as handle:
        plist = plistlib.load(handle)
    schemes = {s for entry in plist["CFBundleURLTypes"] for s in entry["CFBundleURLSchemes"]}
    assert schemes == set(SCHEMES)
    assert all(entry["CFBundleURLName"] for entry in plist["CFBundleURLTypes"])
    assert plist["NSHighResolutionCapable"] is True
    assert plist["CFBundleIdentifier"].count(".") >= 2
    major = int(plist["LSMinimumSystemVersion"].split(".")[0])
    assert major >= 13  # what Qt 6.11 supports


# -- the PyInstaller spec, executed with stand-ins for PyInstaller ---------------------------


class Recorded:
    """Stands in for Analysis, PYZ, EXE, COLLECT and BUNDLE: keeps what the spec passed."""

    def __init__(self, kind: str, calls: dict[str, Recorded], *args: Any, **kwargs: Any):
        self.kind, self.args, self.kwargs = kind, args, kwargs
        calls[kind] = self
        if kind == "Analysis":
            qt = "PySide6/Qt"
            self.binaries = [
                (f"{qt}/plugins/platforms/libqxcb.so", "src", "BINARY"),
                (f"{qt}/plugins/platforms/libqeglfs.so", "src", "BINARY"),
                (f"{qt}/plugins/imageformats/libqpdf.so", "src", "BINARY"),
                (f"{qt}/plugins/iconengines/libqsvgicon.so", "src", "BINARY"),
                (f"{qt}/plugins/styles/qmodernwindowsstyle.dll", "src", "BINARY"),
                (f"{qt}/lib/libQt6Widgets.so.6", "src", "BINARY"),
            ]
            self.datas = [
                (f"{qt}/translations/qtbase_de.qm", "src", "DATA"),
                ("resources/dialer.svg", "src", "DATA"),
            ]
            self.pure: list[Any] = []
            self.scripts: list[Any] = []


class FakeQtLibraryInfo:
    """PyInstaller's Qt hooks helper, listing the plugins of the installed PySide6."""

    def collect_plugins(self, plugin_type: str) -> list[tuple[str, str]]:
        import PySide6

        folder = Path(PySide6.__file__).parent / "Qt" / "plugins" / plugin_type
        return [(str(path), f"PySide6/Qt/plugins/{plugin_type}") for path in folder.glob("*.so")]


def run_spec(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, platform: str
) -> tuple[dict[str, Any], dict[str, Recorded]]:
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda package, filter=None: [package]  # type: ignore[attr-defined]
    hooks.copy_metadata = lambda name: [(f"{name}.dist-info", name)]  # type: ignore[attr-defined]
    qt = types.ModuleType("PyInstaller.utils.hooks.qt")
    qt.QtLibraryInfo = type("QtLibraryInfo", (FakeQtLibraryInfo,), {})  # type: ignore[attr-defined]
    hooks.qt = qt  # type: ignore[attr-defined]
    for name, module in {
        "PyInstaller": types.ModuleType("PyInstaller"),
        "PyInstaller.utils": types.ModuleType("PyInstaller.utils"),
        "PyInstaller.utils.hooks": hooks,
        "PyInstaller.utils.hooks.qt": qt,
    }.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(sys, "path", [*sys.path])  # the spec puts the repository first
    monkeypatch.setattr(sys, "platform", platform)
    calls: dict[str, Recorded] = {}
    namespace: dict[str, Any] = {
        "SPECPATH": str(PACKAGING),
        "workpath": str(tmp_path / "work"),
        "DISTPATH": str(tmp_path / "dist"),
        "__name__": "spec",
    }
    for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"):
        namespace[kind] = lambda *a, _kind=kind, **kw: Recorded(_kind, calls, *a, **kw)
    spec = PACKAGING / "dialer.spec"
    exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)  # noqa: S102
    return namespace, calls


def test_spec_builds_one_folder_and_trims_qt(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    namespace, calls = run_spec(monkeypatch, tmp_path, "linux")
    assert "onefile" not in (PACKAGING / "dialer.spec").read_text().lower()
    exe = calls["EXE"].kwargs
    assert exe["exclude_binaries"] is True  # one folder: libraries beside the executable
    assert exe["name"] == "dialer" and exe["console"] is True  # Linux prints --version
    assert calls["COLLECT"].kwargs["name"] == "dialer"
    assert "BUNDLE" not in calls
    analysis = calls["Analysis"]
    excluded = set(analysis.kwargs["excludes"])
    for module in ("QtQml", "QtQuick", "QtWebEngineCore", "QtWebEngineWidgets", "Qt3DCore"):
        assert f"PySide6.{module}" in excluded
    assert "PySide6.QtNetwork" not in excluded  # QLocalServer keeps the app single-instance
    hidden = analysis.kwargs["hiddenimports"]
    assert {"dialer", "keyring.backends", "secretstorage", "jeepney"} <= set(hidden)
    assert "pynput.keyboard._xorg" in hidden and "pynput.keyboard._win32" not in hidden
    assert ("keyring.dist-info", "keyring") in analysis.kwargs["datas"]
    assert (str(ROOT / "resources"), "resources") in analysis.kwargs["datas"]
    # what survived the trim, after the spec filtered the analysis
    kept = {dest for dest, _, _ in analysis.binaries + analysis.datas}
    assert kept == {
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "PySide6/Qt/plugins/styles/qmodernwindowsstyle.dll",
        "PySide6/Qt/lib/libQt6Widgets.so.6",
        "resources/dialer.svg",
    }
    # plugins are dropped where PyInstaller's Qt hooks collect them (before the analysis of
    # their libraries), so e.g. the PDF image plugin cannot bring libQt6Pdf along
    info = sys.modules["PyInstaller.utils.hooks.qt"].QtLibraryInfo()
    names = {kind: {Path(src).name for src, _ in info.collect_plugins(kind)} for kind in (
        "platforms", "imageformats", "platformthemes", "tls", "sqldrivers")}  # fmt: skip
    assert names["platforms"] == {"libqxcb.so", "libqwayland.so", "libqoffscreen.so"}
    assert names["imageformats"] == {"libqsvg.so", "libqico.so", "libqjpeg.so"}
    assert names["platformthemes"] == {"libqxdgdesktopportal.so"}
    assert names["tls"] == names["sqldrivers"] == set()
    assert namespace["keep_in_bundle"]("PySide6\\plugins\\platforms\\qwindows.dll")


def test_spec_macos_bundle_declares_the_schemes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dialer import __version__

    _, calls = run_spec(monkeypatch, tmp_path, "darwin")
    exe = calls["EXE"].kwargs
    assert exe["console"] is False and exe["argv_emulation"] is False
    bundle = calls["BUNDLE"].kwargs
    assert bundle["name"] == "Dialer.app" and bundle["version"] == __version__
    plist = bundle["info_plist"]
    assert plist["CFBundleShortVersionString"] == plist["CFBundleVersion"] == __version__
    schemes = {s for entry in plist["CFBundleURLTypes"] for s in entry["CFBundleURLSchemes"]}
    assert schemes == set(SCHEMES)
    assert bundle["bundle_identifier"] == plist["CFBundleIdentifier"]
    icon = Path(bundle["icon"])  # drawn from the SVG by Qt
    assert icon.read_bytes()[:4] == b"icns"


def test_spec_windows_is_windowed_with_an_icon(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, calls = run_spec(monkeypatch, tmp_path, "win32")
    exe = calls["EXE"].kwargs
    assert exe["console"] is False
    assert Path(exe["icon"]).read_bytes()[:4] == b"\x00\x00\x01\x00"  # an ICO file
    hidden = calls["Analysis"].kwargs["hiddenimports"]
    assert "win32ctypes" in hidden and "pynput.keyboard._win32" in hidden
    assert "pynput.keyboard._xorg" not in hidden


# -- Windows: the Inno Setup script --------------------------------------------------------------

_ISS_FIELD = re.compile(r'(\w+):\s*("(?:[^"]|"")*"|[^;]*)')


def iss_sections() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for raw in (PACKAGING / "windows" / "dialer.iss").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        header = re.fullmatch(r"\[(\w+)\]", line)
        if header:
            current = header.group(1)
            sections[current] = []
        elif line and not line.startswith(";"):
            sections[current].append(line)
    return sections


def iss_entries(lines: list[str]) -> list[dict[str, str]]:
    def unquote(value: str) -> str:
        value = value.strip()
        if value.startswith('"') and value.endswith('"'):
            value = value[1:-1].replace('""', '"')
        return value.replace("{#AppExe}", "dialer.exe").replace("{#AppName}", "Dialer")

    return [{key: unquote(value) for key, value in _ISS_FIELD.findall(line)} for line in lines]


def test_iss_registers_the_url_protocols() -> None:
    registry = iss_entries(iss_sections()["Registry"])

    def value(subkey: str, name: str) -> dict[str, str]:
        found = [e for e in registry if e["Subkey"] == subkey and e.get("ValueName") == name]
        assert len(found) == 1, (subkey, name)
        assert found[0]["Root"] == "HKA"
        return found[0]

    for scheme in SCHEMES:
        for key in (f"Software\\Classes\\{scheme}", f"Software\\Classes\\Dialer.{scheme}"):
            root = value(key, "")
            assert root["ValueData"] == f"URL:{scheme}"
            assert "uninsdeletekey" in root["Flags"]
            assert value(key, "URL Protocol")["ValueData"] == ""
            assert value(f"{key}\\DefaultIcon", "")["ValueData"] == '"{app}\\dialer.exe",0'
            assert value(f"{key}\\shell\\open\\command", "")["ValueData"] == APP_COMMAND
        association = value("Software\\Dialer\\Capabilities\\URLAssociations", scheme)
        assert association["ValueData"] == f"Dialer.{scheme}"
    registered = value("Software\\RegisteredApplications", "Dialer")
    assert registered["ValueData"] == "Software\\Dialer\\Capabilities"
    assert "uninsdeletevalue" in registered["Flags"]
    # the Check function the scheme keys use is defined
    checks = {re.sub(r"\(.*", "", e["Check"]) for e in registry if "Check" in e}
    code = "\n".join(iss_sections()["Code"])
    assert checks and all(f"function {name}(" in code for name in checks)


def test_iss_installs_with_an_uninstaller_and_a_start_menu_entry() -> None:
    sections = iss_sections()
    setup = dict(line.split("=", 1) for line in sections["Setup"])
    assert setup["DefaultDirName"] == "{autopf}\\{#AppName}"
    assert setup["Uninstallable"] == "yes"
    assert setup["AppVersion"] == "{#AppVersion}"
    assert setup["ChangesAssociations"] == "yes"
    preamble = "\n".join(sections[""])
    assert re.search(r"#ifndef AppVersion\s+#error", preamble)  # the build passes /DAppVersion=
    assert '#define AppName "Dialer"' in preamble
    [files] = iss_entries(sections["Files"])
    assert files["Source"] == "{#SourceDir}\\*" and "recursesubdirs" in files["Flags"]
    icons = iss_entries(sections["Icons"])
    assert any(
        i["Name"] == "{autoprograms}\\Dialer" and i["Filename"] == "{app}\\dialer.exe"
        for i in icons
    )


# -- Linux: the desktop entry, the .deb and the tarball ------------------------------------------


def desktop_fields(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_desktop_entry_handles_the_schemes() -> None:
    fields = desktop_fields((ROOT / "resources" / "dialer.desktop").read_text())
    mime_types = set(filter(None, fields["MimeType"].split(";")))
    assert mime_types == {f"x-scheme-handler/{scheme}" for scheme in SCHEMES}
    assert fields["Exec"].endswith(" %u")  # one URL per launch, passed as given
    assert fields["Icon"] == "dialer"
    packaged = desktop_fields(build_linux.desktop_entry("/usr/bin/dialer"))
    assert packaged["Exec"] == "/usr/bin/dialer %u"
    assert packaged["MimeType"] == fields["MimeType"]


def test_deb_control_fields() -> None:
    text = build_linux.deb_control("1.2.3", 4321, "2.35")
    assert text.endswith("\n")
    fields: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if line.startswith(" "):  # a continuation of the previous field
            assert last == "Description"  # set on the field line before
            continue
        last, _, value = line.partition(": ")
        fields[last] = value
    assert fields["Package"] == "dialer"
    assert fields["Version"] == "1.2.3"
    assert fields["Architecture"] == "amd64"
    assert fields["Installed-Size"] == "4321"
    assert re.fullmatch(r".+ <[^@\s]+@[^@\s]+>", fields["Maintainer"])
    depends = [part.strip() for part in fields["Depends"].split(",")]
    assert depends[0] == "libc6 (>= 2.35)"
    assert "libxcb1" in depends
    assert "gnome-keyring" in fields["Recommends"]
    assert fields["Description"] and len(fields["Description"]) <= 80
    assert "libc6," in build_linux.deb_control("1.2.3", 1) + ","  # no glibc floor known


def fake_bundle(tmp_path: Path) -> Path:
    """A stand-in for dist/dialer: an executable and a library that asks for glibc 2.34."""
    bundle = tmp_path / "bundle"
    internal = bundle / "_internal"
    internal.mkdir(parents=True)
    executable = bundle / "dialer"
    executable.write_text("#!/bin/sh\necho 'dialer 1.2.3'\n")
    executable.chmod(0o755)
    (internal / "libfake.so").write_bytes(b"\x7fELF" + b"\0GLIBC_2.17\0GLIBC_2.34\0GLIBC_2.3.4\0")
    (internal / "notes.txt").write_bytes(b"GLIBC_2.99 is not in an ELF file")
    (internal / "libQt6Core.so.6").symlink_to("libfake.so")
    return bundle


def test_glibc_floor_reads_the_bundled_binaries(tmp_path: Path) -> None:
    assert build_linux.glibc_floor(fake_bundle(tmp_path)) == "2.34"
    assert build_linux.glibc_floor(tmp_path / "bundle" / "_internal" / "empty") is None


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is a Debian tool")
def test_deb_package_layout(tmp_path: Path) -> None:
    deb = build_linux.build_deb(fake_bundle(tmp_path), "1.2.3", tmp_path, tmp_path / "work")
    assert deb.name == "dialer_1.2.3_amd64.deb"

    def dpkg_deb(*args: str) -> str:
        return subprocess.run(
            ["dpkg-deb", *args, str(deb)], capture_output=True, text=True, check=True
        ).stdout

    fields = dpkg_deb("-f").splitlines()
    assert "Package: dialer" in fields and "Version: 1.2.3" in fields
    assert "Depends: libc6 (>= 2.34), libgl1, libegl1, libxcb1" in fields
    listing = dpkg_deb("-c")
    assert re.search(r"^-rwxr-xr-x root/root .* \./opt/dialer/dialer$", listing, re.M)
    assert re.search(r"\./usr/bin/dialer -> /opt/dialer/dialer$", listing, re.M)
    assert "./opt/dialer/_internal/libQt6Core.so.6 -> libfake.so" in listing
    assert "./usr/share/icons/hicolor/scalable/apps/dialer.svg" in listing
    files = subprocess.run(
        ["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True
    ).stdout
    (tmp_path / "fs.tar").write_bytes(files)
    with tarfile.open(tmp_path / "fs.tar") as archive:
        member = archive.extractfile("./usr/share/applications/dialer.desktop")
        assert member is not None
        desktop = desktop_fields(member.read().decode())
    assert desktop["Exec"] == "/usr/bin/dialer %u"
    assert "x-scheme-handler/tel" in desktop["MimeType"]
    control = tmp_path / "control"
    subprocess.run(["dpkg-deb", "-e", str(deb), str(control)], check=True)
    for script in ("postinst", "postrm"):
        path = control / script
        assert os.access(path, os.X_OK)
        text = path.read_text()
        # the desktop tools are optional: each is run only when it is installed
        assert "command -v update-desktop-database" in text
        assert subprocess.run(["sh", "-n", str(path)], check=False).returncode == 0


def test_tarball_layout(tmp_path: Path) -> None:
    tarball = build_linux.build_tarball(fake_bundle(tmp_path), "1.2.3", tmp_path)
    assert tarball.name == "dialer-1.2.3-linux-x86_64.tar.gz"
    with tarfile.open(tarball) as archive:
        members = {member.name: member for member in archive.getmembers()}
        assert members["dialer-1.2.3/dialer"].mode & 0o111
        assert all(member.uid == 0 and member.uname == "root" for member in members.values())
        assert members["dialer-1.2.3/_internal/libQt6Core.so.6"].issym()
        assert "dialer-1.2.3/share/icons/hicolor/scalable/apps/dialer.svg" in members
        desktop = archive.extractfile("dialer-1.2.3/share/applications/dialer.desktop")
        note = archive.extractfile("dialer-1.2.3/INSTALL.txt")
        assert desktop is not None and note is not None
        assert desktop_fields(desktop.read().decode())["Exec"] == "dialer %u"
        install = note.read().decode()
    assert "xdg-mime default dialer.desktop x-scheme-handler/tel" in install
    assert "dialer-1.2.3-linux-x86_64.tar.gz" in install


# -- the smoke test's checks of a bundle's contents ---------------------------------------------


def test_smoke_test_spots_missing_and_trimmed_pieces(tmp_path: Path) -> None:
    bundle = tmp_path / "dialer"
    plugins = bundle / "_internal" / "PySide6" / "Qt" / "plugins"
    wanted = [
        plugins / "platforms" / "libqxcb.so",
        plugins / "platforms" / "libqwayland.so",
        plugins / "platforms" / "libqoffscreen.so",
        plugins / "iconengines" / "libqsvgicon.so",
        bundle / "_internal" / "keyring-25.7.0.dist-info" / "entry_points.txt",
        bundle / "_internal" / "resources" / "dialer.svg",
        bundle / "_internal" / "resources" / "dialer.desktop",
        bundle / "dialer",
    ]
    for path in wanted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    assert "7 required pieces present" in smoke_test.check_contents(bundle / "dialer")
    (plugins / "platforms" / "libqxcb.so").unlink()
    with pytest.raises(smoke_test.SmokeFailure, match="lacks Qt xcb platform plugin"):
        smoke_test.check_contents(bundle / "dialer")
    (plugins / "platforms" / "libqxcb.so").write_text("")
    (bundle / "_internal" / "PySide6" / "Qt" / "lib").mkdir()
    (bundle / "_internal" / "PySide6" / "Qt" / "lib" / "libQt6Qml.so.6").write_text("")
    with pytest.raises(smoke_test.SmokeFailure, match=r"trimmed .*libQt6Qml"):
        smoke_test.check_contents(bundle / "dialer")


# -- macOS scripts: they refuse without their variables, and never print a secret ---------------


def run_script(name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MACOS_", "APPLE_"))}
    return subprocess.run(
        ["bash", str(PACKAGING / "macos" / name), *args],
        capture_output=True,
        text=True,
        env={**clean, **env},
        check=False,
    )


def test_signing_refuses_without_an_identity(tmp_path: Path) -> None:
    result = run_script("sign_and_notarize.sh", "app", str(tmp_path))
    assert result.returncode == 2
    assert "MACOS_SIGNING_IDENTITY not set; refusing" in result.stderr


def test_notarisation_refuses_without_apple_credentials_and_hides_the_password(
    tmp_path: Path,
) -> None:
    dmg = tmp_path / "dialer.dmg"
    dmg.write_bytes(b"")
    password = "abcd-efgh-ijkl-mnop"
    result = run_script(
        "sign_and_notarize.sh",
        "dmg",
        str(dmg),
        MACOS_SIGNING_IDENTITY="Developer ID Application: Test (TEAM123456)",
        APPLE_APP_PASSWORD=password,
    )
    assert result.returncode == 2
    assert "APPLE_ID APPLE_TEAM_ID not set" in result.stderr
    assert password not in result.stdout + result.stderr


def test_make_dmg_needs_the_app(tmp_path: Path) -> None:
    result = run_script("make_dmg.sh", str(tmp_path / "Dialer.app"))
    assert result.returncode == 2
    assert "no app at" in result.stderr


# -- the CI workflow (no YAML parser among the dependencies: its shape is checked as text) -------


def test_workflow_builds_all_three_on_native_runners() -> None:
    text = (ROOT / ".github" / "workflows" / "build.yml").read_text(encoding="utf-8")
    assert "\t" not in text
    assert re.search(r"^on:\n", text, re.M) and re.search(r"^jobs:\n", text, re.M)
    jobs = dict(re.findall(r"^  (\w+):\n(?:    #.*\n)*    runs-on: (\S+)$", text, re.M))
    assert jobs == {"linux": "ubuntu-22.04", "windows": "windows-latest", "macos": "macos-latest"}
    uses = re.findall(r"uses: (\S+)", text)
    assert uses and all(re.fullmatch(r"[\w-]+/[\w-]+@v\d+", action) for action in uses)
    assert text.count('python-version: "3.11"') == 3
    assert text.count("pip install -e '.[packaging]'") == 3
    for script in (
        "packaging/build_linux.py",
        "packaging/smoke_test.py",
        "packaging/dialer.spec",
        "packaging\\windows\\dialer.iss",
        "packaging/macos/make_dmg.sh",
    ):
        assert script in text
        assert (ROOT / script.replace("\\", "/")).is_file()
    # secrets only ever reach steps as environment variables, never inside a command
    for line in text.splitlines():
        if "secrets." in line:
            assert re.match(r"\s+[A-Z0-9_]+: \$\{\{.*secrets\.[A-Z0-9_]+.*\}\}$", line), line
