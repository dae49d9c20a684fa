"""What a provider declares about itself, in one place, for the rest of the app.

Each provider module ends with a :class:`ProviderSpec`: its kind and label, the account
settings it takes (from which the accounts dialog and ``dialer account add`` build their
forms and flags), its :class:`~dialer.providers.base.Capabilities`, and how the outcome of
its calls is learned (:class:`NoReports`, :class:`WebhookReports`, :class:`PolledReports`,
:class:`HistoryReports`). The dialog, the CLI and the history's tracker read the declaration
instead of branching on the kind, so a fifth service is one module (and its simulator twin).

Every sentence that names a setting is made here from the declaration, once.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from dialer.core.errors import InvalidInput
from dialer.core.reports import ProviderReport

if TYPE_CHECKING:
    from dialer.providers.base import Capabilities, Provider


@dataclass(frozen=True, slots=True)
class AccountField:
    """One provider-specific account setting (an ``Account.options`` key), or a secret kept
    beside the account's own in the keyring (``secret=True``: never in ``options``)."""

    key: str
    label: str  # as the form shows it, and as a sentence names it
    help: str = ""  # the CLI flag's help, the form's placeholder
    required: bool = False
    choices: tuple[str, ...] = ()  # the first is the default
    choice_labels: tuple[str, ...] = ()  # how the form shows each choice
    needs: str | None = None  # another field's key that must be set with this one
    secret: bool = False
    keyring_name: str = ""  # a secret's keyring entry: ``account:<name>:<keyring_name>``
    metavar: str | None = None
    # A stricter check than presence: the sentence saying what is wrong, or None.
    check: Callable[[str], str | None] | None = None

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


@dataclass(frozen=True, slots=True)
class SecretDeclaration:
    """The account's own secret: what it is called, and when it is called otherwise (a
    Kazoo user login takes a password instead of an API key). ``in_header``: it travels in
    an HTTP header (C2C v2's Bearer token), which carries only visible ASCII."""

    label: str
    # (option key, label): while that option is set, the secret is called this.
    when_set: tuple[tuple[str, str], ...] = ()
    in_header: bool = False

    def label_for(self, options: Mapping[str, str] | None = None) -> str:
        for key, label in self.when_set:
            if str((options or {}).get(key, "")).strip():
                return label
        return self.label

    def problem(self, value: str, options: Mapping[str, str] | None = None) -> str | None:
        """Why ``value`` cannot be this secret (one sentence), or None."""
        return secret_problem(value, self.label_for(options), in_header=self.in_header)


def secret_problem(value: str, label: str, *, in_header: bool) -> str | None:
    """Why ``value`` cannot be a secret called ``label`` (one sentence), or None.

    Refused: nothing; spaces or line breaks around it (a paste that took too much: sent as
    is they break the request, stripped they hide a different secret than the one typed);
    control characters anywhere (a line break inside a header ends up quoted in an error
    message, secret and all); and for a secret sent in an HTTP header, anything but visible
    ASCII (httpx cannot encode it, and no server reads it). The sentence never quotes the
    secret."""
    import unicodedata

    what = in_sentence(label)
    if not value.strip():
        return f"No {what} given"
    if value != value.strip():
        return f"The {what} has spaces or a line break around it: give it without them"
    controls = (i for i, c in enumerate(value, 1) if unicodedata.category(c) in _CONTROL)
    if (position := next(controls, None)) is not None:
        return (
            f"The {what} has a line break or another control character in it (character "
            f"{position}): it must be one line, exactly as the provider shows it"
        )
    outside = (i for i, c in enumerate(value, 1) if in_header and not "!" <= c <= "~")
    if (position := next(outside, None)) is not None:
        kind = "a space" if value[position - 1] == " " else "a character outside ASCII"
        # Headers could carry an inner space, but no provider's secret has one: it is a paste
        # gone wrong, and sent it would only come back as "not authorised".
        return (
            f"The {what} has {kind} in it (character {position}), and a real one never does: "
            "copy it again exactly as the provider shows it"
        )
    return None


# Control, format, surrogate and separator characters: never part of a secret typed or pasted.
_CONTROL = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def header_secret_check(label: str) -> Callable[[str], str | None]:
    """An :class:`AccountField` check for a secret sent or received in an HTTP header."""

    def check(value: str) -> str | None:
        return secret_problem(value, label, in_header=True)

    return check


def in_sentence(label: str) -> str:
    """``Authcode`` -> ``authcode`` inside a sentence, but ``API PIN`` stays."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


# -- how outcomes are learned ----------------------------------------------------------------


class TrackedCall(Protocol):
    """What a report declaration may read of a call placed here (a history record)."""

    @property
    def id(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def provider_ref(self) -> str | None: ...
    @property
    def created_at(self) -> float: ...
    @property
    def customer(self) -> str: ...
    @property
    def request(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class NoReports:
    """Nothing documented: the call is concluded "no report" as soon as it is accepted."""

    # Kept as the call's note, and the answer when a report is asked for: it says that the
    # provider reports no outcomes, and what that means for the call.
    sentence: str


@dataclass(frozen=True, slots=True)
class WebhookReports:
    """The provider pushes a report (the webhook receiver stores it). ``option``: the account
    setting without which no report can arrive; ``missing`` says so to the user.
    ``subscribed``: (setting, value) of an account whose reports come by a subscription made
    once at the provider: that account needs no ``option`` to get them."""

    option: str | None = None
    missing: str = ""
    subscribed: tuple[str, str] | None = None

    def missing_for(self, options: Mapping[str, str]) -> str | None:
        """Why no report can arrive for calls of an account with these settings (the
        sentence), or None when one is expected."""
        if self.subscribed is not None:
            key, value = self.subscribed
            if options.get(key) == value:
                return None
        if self.option and not options.get(self.option):
            return self.missing
        return None


@dataclass(frozen=True, slots=True)
class PolledRead:
    """One read of a call's report. ``key``: what two reads in a row must share for the
    report to count as stopped changing. ``conclusive``: False for a report that may still be
    an early placeholder (v1 writes zero durations while the call rings), final only once
    the call cannot be running any more."""

    report: ProviderReport
    key: Hashable
    conclusive: bool = True


class PolledReports(ABC):
    """A report read per call, by id, until two reads agree (the tracker's poll engine)."""

    first_read_waits = True  # the first read comes after the first poll interval

    @abstractmethod
    async def read(self, provider: Provider, call: TrackedCall) -> PolledRead | None:
        """The call's report now; None while the provider has none."""

    def longest_call(self, call: TrackedCall) -> float | None:
        """How long the call was allowed to last (seconds), when the request capped it."""
        return None


class HistoryReports(ABC):
    """A per-bridge history read per account (the tracker's history engine): items are
    matched to open calls by leg id, else by contact and time; unmatched items become calls
    placed outside the app."""

    @abstractmethod
    async def sources(self, provider: Provider) -> list[tuple[str, str | None]]:
        """Every history the account has: (source id, the agent's number there or None)."""

    @abstractmethod
    def source_of(self, call: TrackedCall) -> str | None:
        """Which history a call placed here went into, when the request shows it."""

    @abstractmethod
    async def read(
        self, provider: Provider, source: str, *, since: float
    ) -> list[Mapping[str, Any]]:
        """The items of one history from ``since`` (unix time) on."""

    @abstractmethod
    def item_time(self, item: Mapping[str, Any]) -> float | None: ...

    @abstractmethod
    def item_leg(self, item: Mapping[str, Any]) -> str | None:
        """The leg id an item carries (the call's ``provider_ref``), if any."""

    @abstractmethod
    def item_contact(self, item: Mapping[str, Any]) -> str | None: ...

    @abstractmethod
    def parse(
        self,
        item: Mapping[str, Any],
        *,
        account: str,
        source: str,
        agent: str | None,
        call_id: str | None,
    ) -> ProviderReport:
        """The item as a report; :class:`~dialer.core.reports.ReportParseError` if it is
        not one."""


Reporting = NoReports | WebhookReports | PolledReports | HistoryReports


# -- the declaration -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    kind: str  # the account file's ``provider`` value
    label: str  # as people call it
    provider: type[Provider]
    secret: SecretDeclaration
    reports: Reporting
    fields: tuple[AccountField, ...] = ()
    # What the account's bridges are called (one per line in the form, --bridge on the CLI);
    # None: the provider takes none.
    bridges: str | None = None
    sip_agent: bool = False  # the agent's own phone may be a SIP address

    @property
    def capabilities(self) -> Capabilities:
        return self.provider.capabilities

    def field(self, key: str) -> AccountField | None:
        return next((f for f in self.fields if f.key == key), None)

    @property
    def option_fields(self) -> tuple[AccountField, ...]:
        return tuple(f for f in self.fields if not f.secret)

    @property
    def secret_fields(self) -> tuple[AccountField, ...]:
        return tuple(f for f in self.fields if f.secret)

    def check_options(self, options: Mapping[str, str], *, flags: bool) -> None:
        """Refuse missing, mismatched or malformed settings with one sentence.

        ``flags``: name them as ``dialer account add`` flags (else as the form's labels).
        Raises :class:`OptionError`, whose ``key`` names the setting to fix.
        """
        for spec_field in self.option_fields:
            value = options.get(spec_field.key, "").strip()
            name = spec_field.flag if flags else spec_field.label
            if not value:
                if spec_field.required:
                    what = (
                        f"{spec_field.flag} ({spec_field.label})"
                        if flags and spec_field.label != spec_field.key
                        else name
                    )
                    raise OptionError(
                        spec_field.key,
                        f"A {self.kind if flags else self.label} account needs "
                        + (what if flags else f"its {name}"),
                    )
                continue
            if spec_field.choices and value not in spec_field.choices:
                # The form offers the choices by their labels, the CLI by their keys.
                shown = tuple(f"'{c}'" for c in spec_field.choice_labels or spec_field.choices)
                raise OptionError(
                    spec_field.key,
                    f"{spec_field.flag} must be {_either(spec_field.choices)}"
                    if flags
                    else f"Choose {_either(shown)} for '{spec_field.label}'",
                )
            problem = spec_field.check(value) if spec_field.check else None
            if problem:
                raise OptionError(spec_field.key, f"{spec_field.label}: {problem}")
            needed = self.field(spec_field.needs) if spec_field.needs else None
            if needed is not None and not options.get(needed.key, "").strip():
                raise OptionError(
                    needed.key,
                    f"{spec_field.label} ({spec_field.flag}) needs {needed.flag}"
                    if flags
                    else f"'{spec_field.label}' needs '{needed.label}' as well: fill in both",
                )


def _either(choices: tuple[str, ...]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return " or ".join(filter(None, (", ".join(choices[:-1]), choices[-1])))


class OptionError(InvalidInput):
    """A provider setting is missing or wrong; ``key`` names it."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


_KEY = re.compile(r"[a-z][a-z0-9_]*")


def check_declaration(spec: ProviderSpec) -> None:
    """A declaration the forms can be built from: keys usable as flags, none twice."""
    keys = [f.key for f in spec.fields]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{spec.kind}: a setting is declared twice")
    for key in keys:
        if not _KEY.fullmatch(key):
            raise ValueError(f"{spec.kind}: '{key}' cannot be a flag")
    if spec.provider.kind != spec.kind:
        raise ValueError(f"{spec.kind}: its provider class says {spec.provider.kind}")
