"""One module per click-to-call service, each behind :class:`dialer.providers.base.Provider`
and each declaring itself in a :class:`dialer.providers.spec.ProviderSpec`.

The four built-in modules are imported on first use; :func:`register` adds another
service's declaration (a plug-in, or a test's fake provider) to the same registry, and from
then on the accounts dialog, ``dialer account add`` and the tracker offer and drive it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from dialer.core.accounts import ProviderKind
from dialer.core.errors import ConfigError

if TYPE_CHECKING:
    from dialer.providers.base import Provider
    from dialer.providers.spec import ProviderSpec

_BUILT_IN: dict[str, str] = {
    ProviderKind.C2C_V2: "dialer.providers.c2c_v2",
    ProviderKind.CLICK2CALL_V1: "dialer.providers.click2call_v1",
    ProviderKind.KAZOO: "dialer.providers.kazoo",
    ProviderKind.DIGIDONAR: "dialer.providers.digidonar",
}
_REGISTERED: dict[str, ProviderSpec] = {}


def register(spec: ProviderSpec) -> None:
    """Add (or replace) a provider's declaration."""
    from dialer.providers.spec import check_declaration

    check_declaration(spec)
    _REGISTERED[str(spec.kind)] = spec


def unregister(kind: str) -> None:
    """Forget a registered provider (built-in ones come back on next use)."""
    _REGISTERED.pop(str(kind), None)


def provider_spec(kind: str) -> ProviderSpec:
    """The declaration of a provider kind; ConfigError for a kind nobody declared."""
    key = str(kind)
    spec = _REGISTERED.get(key)
    if spec is None:
        module_name = _BUILT_IN.get(key)
        if module_name is None:
            raise ConfigError(f"'{key}' is not a provider this dialer knows")
        spec = importlib.import_module(module_name).SPEC
        _REGISTERED[key] = spec
    return spec


def provider_specs() -> list[ProviderSpec]:
    """Every provider: the built-in four in their order, then those registered."""
    for kind in _BUILT_IN:
        provider_spec(kind)
    return [
        *(_REGISTERED[k] for k in _BUILT_IN),
        *(spec for kind, spec in _REGISTERED.items() if kind not in _BUILT_IN),
    ]


def provider_class(kind: str) -> type[Provider]:
    return provider_spec(kind).provider


def provider_label(kind: str) -> str:
    """The provider's name for people, or the kind itself when nobody declared it."""
    try:
        return provider_spec(kind).label
    except ConfigError:
        return str(kind)
