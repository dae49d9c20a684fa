"""A Kazoo clicktocall object as seed 003 documents it: its properties, how each is checked,
and how an edit is merged into the object on the server.

The window's clicktocall dialog and ``dialer kazoo create|update`` both build on these
declarations, so a property is described, checked and named in one place. Checks follow
the document's Validation column (and upstream's schema where the document says less): a
value the server would refuse, or silently misuse, is refused here with a sentence before
anything is sent.

Kazoo's POST replaces the whole object, so an update reads the object, applies only what
the user changed (:func:`merged`) and writes it back; properties this app does not know
(``custom_application_vars``, ``timeout``, ...) travel through unchanged.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dialer.core.errors import InvalidInput, ProviderError


class PropertyKind(StrEnum):
    TEXT = "text"
    FLAG = "flag"  # a boolean
    COUNT = "count"  # a whole number, 0 or more
    PATTERNS = "patterns"  # a list of regular expressions


@dataclass(frozen=True, slots=True)
class ClicktocallProperty:
    key: str  # as on the wire
    label: str  # as a form and a sentence name it
    kind: PropertyKind
    help: str
    required: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


PROPERTIES = (
    ClicktocallProperty(
        "name", "Name", PropertyKind.TEXT, "a human-friendly name for it", required=True
    ),
    ClicktocallProperty(
        "extension",
        "Extension",
        PropertyKind.TEXT,
        "the phone rung first: a SIP URI, a DID or an internal extension",
        required=True,
    ),
    ClicktocallProperty(
        "realm",
        "Realm",
        PropertyKind.TEXT,
        "the SIP realm of the extension (default: the account's)",
    ),
    ClicktocallProperty(
        "auth_required",
        "Requires a login",
        PropertyKind.FLAG,
        "whether starting a call through it needs an authenticated user",
    ),
    ClicktocallProperty(
        "whitelist",
        "Whitelist",
        PropertyKind.PATTERNS,
        "regular expressions a number must match before it is called",
    ),
    ClicktocallProperty(
        "throttle",
        "Throttle",
        PropertyKind.COUNT,
        "active calls allowed through it at once (0: no limit)",
    ),
    ClicktocallProperty(
        "caller_id_number",
        "Caller id number (to the extension)",
        PropertyKind.TEXT,
        "the number the extension's phone shows before the customer is called",
    ),
    ClicktocallProperty(
        "outbound_callee_id_name",
        "Caller id name (to the customer)",
        PropertyKind.TEXT,
        "the name shown on the call to the customer",
    ),
    ClicktocallProperty(
        "outbound_callee_id_number",
        "Caller id number (to the customer)",
        PropertyKind.TEXT,
        "the number shown on the call to the customer",
    ),
)

BY_KEY = {prop.key: prop for prop in PROPERTIES}
# Returned by the server, never sent back as a change.
READ_ONLY = frozenset({"id", "history_items"})

MAX_NAME = 128  # upstream's schema: maxLength 128

# A SIP URI (sip:user@host), a DID (+ and digits) or an internal extension (letters, digits
# and the few signs a dial plan uses). Kazoo takes the extension as the route of a call, so
# spaces and other signs would never route.
_EXTENSION = re.compile(r"(?:sips?:)?[A-Za-z0-9+*#._-]+(?:@[A-Za-z0-9.-]+(?::[0-9]{1,5})?)?")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


class ClicktocallChanged(ProviderError):
    """The clicktocall changed on the server between reading it and writing the edit."""

    exit_code = 3


def property_problem(key: str, value: Any) -> str | None:
    """Why ``value`` cannot be the clicktocall's ``key`` (one sentence), or None."""
    prop = BY_KEY.get(key)
    if prop is None:
        return None  # a property this app does not edit: the server decides
    label = prop.label
    the = f"The {label[:1].lower()}{label[1:]}"  # "The throttle", "The caller id name (…)"
    if prop.kind is PropertyKind.FLAG:
        # Quoted: a flag's label is a phrase ("Requires a login"), not a noun.
        return None if isinstance(value, bool) else f"'{label}' must be yes or no"
    if prop.kind is PropertyKind.COUNT:
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{the} must be a whole number (0 for no limit)"
        return f"{the} must be 0 or more (0 for no limit)" if value < 0 else None
    if prop.kind is PropertyKind.PATTERNS:
        if not isinstance(value, list | tuple):
            return f"{the} must be a list of regular expressions"
        for position, pattern in enumerate(value, 1):
            if not isinstance(pattern, str) or not pattern:
                return f"{label} entry {position} is empty: fill it in or remove it"
            problem = pattern_problem(pattern)
            if problem:
                return f"{label} entry {position}: {problem}"
        return None
    if not isinstance(value, str) or not value.strip():
        return f"{the} must not be empty"
    if value != value.strip() or any(ord(c) < 32 for c in value):
        return f"{the} has spaces around it or a line break in it: remove them"
    if key == "name" and len(value) > MAX_NAME:
        return f"{the} must be at most {MAX_NAME} characters (it has {len(value)})"
    if key == "extension" and not _EXTENSION.fullmatch(value):
        return (
            f"'{_shown(value)}' is not an extension Kazoo can call: give a SIP URI "
            "(sip:1001@pbx.example.com), a DID (+918067000000) or an internal extension (1001)"
        )
    if key == "realm" and not is_realm(value):
        return (
            f"'{_shown(value)}' is not a realm: give a domain name (pbx.example.com) or an IP "
            "address"
        )
    return None


def pattern_problem(pattern: Any) -> str | None:
    """Why ``pattern`` cannot be a whitelist entry, or None. Kazoo matches entries with
    Erlang's PCRE; Python's ``re`` reads the same syntax for everything a number pattern
    needs, so a pattern that does not compile here would not match there either."""
    if not isinstance(pattern, str) or not pattern:
        return "an entry must not be empty"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"'{_shown(pattern)}' is not a regular expression ({exc.msg})"
    return None


def is_realm(text: str) -> bool:
    """A fully qualified domain name or an IP address."""
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        pass
    labels = text.rstrip(".").split(".")
    return len(labels) >= 2 and len(text) <= 253 and all(map(_HOST_LABEL.fullmatch, labels))


def checked(values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """``values`` checked (InvalidInput with the first problem's sentence). ``creating``:
    the required properties must be there; in an edit, None removes a property."""
    if creating:
        for prop in PROPERTIES:
            if prop.required and values.get(prop.key) in (None, ""):
                raise InvalidInput(f"A clicktocall needs {_a(prop.label)} ({prop.flag})")
    for key, value in values.items():
        if key in READ_ONLY:
            raise InvalidInput(f"'{key}' is set by Kazoo and cannot be changed")
        if value is None:
            declared = BY_KEY.get(key)
            if declared is not None and declared.required:
                raise InvalidInput(f"A clicktocall needs {_a(declared.label)}")
            continue
        problem = property_problem(key, value)
        if problem:
            raise InvalidInput(problem)
    return dict(values)


def editable(document: Mapping[str, Any]) -> dict[str, Any]:
    """The object as it would be written back: everything but what the server sets."""
    return {key: value for key, value in document.items() if key not in READ_ONLY}


def merged(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``current`` (as read from the server) with ``changes`` applied; a None removes."""
    result = editable(current)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """What an edit changed: each property whose value differs (None where it was removed)."""
    old, new = editable(before), editable(after)
    changed = {key: value for key, value in new.items() if old.get(key) != value}
    changed.update({key: None for key in old if key not in new})
    return changed


def describe(document: Mapping[str, Any]) -> str:
    """A clicktocall in a few words: ``Sales line (1001), id 3f…``."""
    name = document.get("name") or "(no name)"
    extension = document.get("extension")
    shown = f"{name} ({extension})" if extension else str(name)
    return f"{shown}, id {document.get('id')}" if document.get("id") else shown


def _shown(text: str) -> str:
    printable = "".join(c if c.isprintable() else "?" for c in text)
    return printable if len(printable) <= 60 else printable[:59] + "…"


def _a(label: str) -> str:
    word = label.lower()
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"
