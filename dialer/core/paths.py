"""Where the app writes: everything under ``$DIALER_HOME`` when it is set, else the OS's places."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "dialer"


@dataclass(frozen=True, slots=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @property
    def accounts_file(self) -> Path:
        return self.config_dir / "accounts.toml"

    @property
    def calls_db(self) -> Path:
        return self.data_dir / "calls.sqlite3"

    @property
    def contacts_db(self) -> Path:
        return self.data_dir / "contacts.sqlite3"

    @classmethod
    def under(cls, home: Path) -> AppPaths:
        return cls(config_dir=home / "config", data_dir=home / "data", log_dir=home / "logs")

    @classmethod
    def default(cls) -> AppPaths:
        home = os.environ.get("DIALER_HOME")
        if home:
            return cls.under(Path(home).expanduser())
        import platformdirs

        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        return cls(
            config_dir=Path(dirs.user_config_dir),
            data_dir=Path(dirs.user_data_dir),
            log_dir=Path(dirs.user_log_dir),
        )

    def demo_profile(self) -> AppPaths:
        """The demo's own folders, inside this profile's data folder (never the user's)."""
        return AppPaths.under(self.data_dir / "demo-profile")

    def ensure(self) -> AppPaths:
        for path in (self.config_dir, self.data_dir, self.log_dir):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self
