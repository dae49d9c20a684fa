"""One module per click-to-call service, all behind :class:`dialer.providers.base.Provider`.

Modules are imported on first use so that start-up pays only for the providers in use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from dialer.core.accounts import ProviderKind

if TYPE_CHECKING:
    from dialer.providers.base import Provider

_CLASSES: dict[ProviderKind, tuple[str, str]] = {
    ProviderKind.C2C_V2: ("dialer.providers.c2c_v2", "C2CV2Provider"),
    ProviderKind.CLICK2CALL_V1: ("dialer.providers.click2call_v1", "Click2CallV1Provider"),
    ProviderKind.KAZOO: ("dialer.providers.kazoo", "KazooProvider"),
    ProviderKind.DIGIDONAR: ("dialer.providers.digidonar", "DigiDonarProvider"),
}


def provider_class(kind: ProviderKind | str) -> type[Provider]:
    module_name, class_name = _CLASSES[ProviderKind(kind)]
    cls: type[Provider] = getattr(importlib.import_module(module_name), class_name)
    return cls
