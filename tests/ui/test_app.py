"""Start-up and shutdown of the real app coroutine, and the user profile without a keyring."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import until

pytestmark = pytest.mark.gui


def _main_window() -> Any:
    from dialer.ui.main_window import MainWindow

    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    return found[-1] if found else None


async def test_main_owns_shutdown(dialer_home: Path, qapp: Any) -> None:
    from dialer.core.paths import AppPaths
    from dialer.ui.app import main

    app_task = asyncio.ensure_future(main(demo=True, paths=AppPaths.default()))
    await until(lambda: _main_window() is not None and _main_window().isVisible())
    window = _main_window()
    await until(lambda: window.contacts_model.rowCount() == 300)
    sim = window.profile.simulator
    base = sim.base_url
    window.close()
    assert await asyncio.wait_for(app_task, 10) == 0
    import httpx

    with pytest.raises(httpx.ConnectError):  # the demo's simulator was stopped with the app
        async with httpx.AsyncClient() as client:
            await client.get(base)
    window.deleteLater()


async def test_no_keyring_explains_and_the_app_still_runs(dialer_home: Path, qapp: Any) -> None:
    from dialer.app.profile import open_user_profile
    from dialer.core.accounts import Account, AccountStore, ProviderKind
    from dialer.core.paths import AppPaths
    from dialer.ui.main_window import MainWindow

    paths = AppPaths.default().ensure()
    AccountStore(paths.accounts_file).add(
        Account(
            name="work",
            provider=ProviderKind.C2C_V2,
            url="https://portal.example.com/api/v2/",
            region="IN",
            agent="+919876543210",
            bridges=("918068280000",),
        )
    )
    keyring.set_keyring(fail.Keyring())
    profile = open_user_profile(paths)
    window = MainWindow(profile)
    window.show()
    try:
        await window.start()
        assert await window.call_number("+918867135000") is None
        level, text = window.messages.history[-1]
        assert level == "error"
        assert "keyring" in text.lower()
        assert "PYTHON_KEYRING_BACKEND" in text
        assert window.isVisible()
    finally:
        await window.shutdown()
        window.close()
        window.deleteLater()  # deleted by Qt on the loop, not by Python's GC at a random time
        await asyncio.sleep(0)
        await profile.aclose()
