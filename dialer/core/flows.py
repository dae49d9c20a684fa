"""IVR flows: what the customer hears when a call rings them straight into a studio flow.

A C2C v2 call can send the customer into flow ``flow:<id>`` built in the provider's studio,
whose text-to-speech prompt carries variables (``Hello {Name}, your otp for login is
{otp}``); the call sends each value as ``"variables[Name]": "..."``. This module is the
model behind the flow editor: a flow's prompt as configured in the studio, the variables
derived from it, and for each variable either a typed value or a binding to a contact field.

Placeholder syntax, decided here (the provider documents only the one example):

* ``{Name}``: a name made of letters, digits and underscores that does not start with a
  digit. Letters are Unicode letters (the rule is :meth:`str.isidentifier`), so a prompt in
  Hindi or Hungarian may use ``{नाम}`` or ``{Név}``: sending a value the studio turns out not
  to need is harmless, leaving a placeholder unfilled is not.
* ``{{`` and ``}}`` are literal braces, as in Python's ``str.format``.
* Anything else in braces (``{2fa}``, ``{first name}``, ``{}``, a lone ``{``) is plain text.

Flows are kept per account in a TOML file (``config_dir / "flows.toml"``). Variable values
are not secrets, but they can be personal (an OTP, an order number), so nothing here logs
them above DEBUG, and DEBUG lines carry ids only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dialer.core.calls import Flow
from dialer.core.errors import ConfigError, InvalidInput
from dialer.core.files import read_toml, write_toml_atomically

logger = logging.getLogger(__name__)

#: Contact fields a variable can be bound to: key -> label shown to the user.
CONTACT_FIELDS: dict[str, str] = {
    "name": "Name",
    "first_name": "First name",
    "company": "Company",
    "email": "Email",
    "number": "Phone number",
    "notes": "Notes",
}


# -- placeholders ---------------------------------------------------------------------------


def is_variable_name(text: str) -> bool:
    """Whether ``text`` may be a variable name: letters, digits, ``_``, no leading digit."""
    return text.isidentifier()


def _parse(prompt: str) -> Iterator[tuple[bool, str]]:
    """Split a prompt into ``(is_placeholder, text)`` pieces; literal text is unescaped."""
    literal: list[str] = []
    i, end = 0, len(prompt)
    while i < end:
        char = prompt[i]
        if char in "{}" and prompt.startswith(char * 2, i):
            literal.append(char)  # {{ or }}: one literal brace
            i += 2
            continue
        if char == "{":
            close = prompt.find("}", i + 1)
            name = prompt[i + 1 : close] if close != -1 else ""
            if close != -1 and is_variable_name(name):
                if literal:
                    yield False, "".join(literal)
                    literal.clear()
                yield True, name
                i = close + 1
                continue
        literal.append(char)  # a lone or malformed brace is just text
        i += 1
    if literal:
        yield False, "".join(literal)


def placeholders(prompt: str) -> tuple[str, ...]:
    """The variables a prompt uses: unique, in order of first appearance."""
    return tuple(dict.fromkeys(text for is_name, text in _parse(prompt) if is_name))


# -- bindings and flows ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariableBinding:
    """Where a variable's value comes from: a typed ``value``, or a contact's ``contact_field``
    (a key of :data:`CONTACT_FIELDS`). At most one is set; neither means "not set yet"."""

    value: str | None = None
    contact_field: str | None = None

    def __post_init__(self) -> None:
        if self.value is not None and self.contact_field is not None:
            raise InvalidInput(
                "A flow variable takes either a typed value or a contact field, not both"
            )
        if self.contact_field is not None and self.contact_field not in CONTACT_FIELDS:
            raise InvalidInput(
                f"'{self.contact_field}' is not a contact field "
                f"(one of {', '.join(CONTACT_FIELDS)})"
            )

    @classmethod
    def typed(cls, value: str) -> VariableBinding:
        return cls(value=value)

    @classmethod
    def from_contact(cls, contact_field: str) -> VariableBinding:
        return cls(contact_field=contact_field)

    @property
    def is_unset(self) -> bool:
        return self.value is None and self.contact_field is None


UNSET = VariableBinding()


@dataclass(frozen=True, slots=True)
class FlowDefinition:
    """One studio flow of one account, with how each of its variables gets a value.

    ``bindings`` is copied (a plain dict, so ``asdict``/``deepcopy``/pickle work; treat it as
    read-only, as the ``Mapping`` type says); entries that are unset are dropped.
    Bindings for names the prompt does not use are kept as given (a file written by hand);
    :meth:`with_prompt` is what prunes them.
    """

    account: str
    flow_id: str
    name: str
    prompt: str = ""
    bindings: Mapping[str, VariableBinding] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.account.strip():
            raise InvalidInput("A flow needs the account it belongs to")
        if not self.flow_id:
            raise InvalidInput("A flow needs its id as the provider's studio shows it")
        if ":" in self.flow_id or any(c.isspace() for c in self.flow_id):
            raise InvalidInput(
                f"'{self.flow_id}' is not a flow id: give it as the studio shows it, "
                "without spaces or a 'flow:' prefix"
            )
        bindings: dict[str, VariableBinding] = {}
        for variable, binding in self.bindings.items():
            if not is_variable_name(variable):
                raise InvalidInput(
                    f"'{variable}' is not a variable name: use letters, digits and "
                    "underscores, not starting with a digit"
                )
            if not isinstance(binding, VariableBinding):
                raise InvalidInput(f"The binding of {variable} is not a VariableBinding")
            if not binding.is_unset:
                bindings[variable] = binding
        object.__setattr__(self, "bindings", bindings)

    def __hash__(self) -> int:
        return hash(
            (self.account, self.flow_id, self.name, self.prompt, frozenset(self.bindings.items()))
        )

    @property
    def key(self) -> tuple[str, str]:
        """What identifies a flow in the store: ``(account, flow_id)``."""
        return self.account, self.flow_id

    @property
    def label(self) -> str:
        """``220 (Login OTP)``, or the bare id when the flow has no name."""
        name = self.name.strip()
        return f"{self.flow_id} ({name})" if name else self.flow_id

    @property
    def placeholders(self) -> tuple[str, ...]:
        return placeholders(self.prompt)

    def binding(self, variable: str) -> VariableBinding:
        """The variable's binding; an unset one when it has none."""
        return self.bindings.get(variable, UNSET)

    def with_prompt(self, prompt: str) -> FlowDefinition:
        """The flow with a new prompt, keeping the bindings of variables it still uses."""
        used = placeholders(prompt)
        kept = {name: b for name, b in self.bindings.items() if name in used}
        return replace(self, prompt=prompt, bindings=kept)

    def with_binding(self, variable: str, binding: VariableBinding) -> FlowDefinition:
        """The flow with one variable bound anew; an unset binding clears it.

        Only variables of the prompt can be bound: anything else is a typo that would
        otherwise be saved and silently never sent.
        """
        if variable not in self.placeholders:
            raise InvalidInput(f"Flow {self.label} has no variable {{{variable}}} in its prompt")
        bindings = dict(self.bindings)
        if binding.is_unset:
            bindings.pop(variable, None)
        else:
            bindings[variable] = binding
        return replace(self, bindings=bindings)


# -- resolving values -----------------------------------------------------------------------


class MissingVariables(InvalidInput):
    """A flow cannot call yet: ``names`` are its variables that have no value."""

    def __init__(self, message: str, names: tuple[str, ...], *, flow_id: str = ""):
        super().__init__(message)
        self.names = names
        self.flow_id = flow_id


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def asked_per_call(flow: FlowDefinition) -> tuple[str, ...]:
    """The variables with neither a typed value nor a contact field: the person types them
    for each call, in the call options (an order number, an OTP)."""
    return tuple(name for name in flow.placeholders if flow.binding(name).is_unset)


def _lookup(
    flow: FlowDefinition,
    contact_fields: Mapping[str, str] | None,
    per_call: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[str], list[str], dict[str, list[str]]]:
    """Values found, names missing, names waiting for a contact, and empty contact fields
    (field key -> the variables bound to it)."""
    values: dict[str, str] = {}
    missing: list[str] = []
    no_contact: list[str] = []
    empty_fields: dict[str, list[str]] = {}
    for name in flow.placeholders:
        binding = flow.binding(name)
        if binding.is_unset and per_call is not None:
            text = (per_call.get(name) or "").strip()
            if not text:
                missing.append(name)
                continue
        elif binding.contact_field is not None:
            if contact_fields is None:
                no_contact.append(name)
                missing.append(name)
                continue
            text = (contact_fields.get(binding.contact_field) or "").strip()
            if not text:
                empty_fields.setdefault(binding.contact_field, []).append(name)
                missing.append(name)
                continue
        else:
            text = (binding.value or "").strip()
            if not text:
                missing.append(name)
                continue
        values[name] = text
    return values, missing, no_contact, empty_fields


def resolve_variables(
    flow: FlowDefinition,
    contact_fields: Mapping[str, str] | None,
    *,
    contact_name: str = "",
    per_call: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every variable of the prompt with its value (stripped), ready to send.

    ``contact_fields`` is the contact being called as a :data:`CONTACT_FIELDS`-keyed mapping
    (absent keys count as empty), or None when the number is no contact. ``contact_name``
    names the contact in the message; it defaults to the contact's ``name`` field.
    ``per_call``: values typed for this call, for the variables :func:`asked_per_call`.

    Raises :class:`MissingVariables`, listing every variable without a value, when any
    is unset, typed empty, bound while no contact is selected, or bound to an empty field.
    """
    values, missing, no_contact, empty_fields = _lookup(flow, contact_fields, per_call)
    if not missing:
        return values
    message = f"Flow {flow.label} needs a value for {_join(missing)} before it can call"
    typed = [name for name in missing if name in asked_per_call(flow)]
    if typed and per_call is not None:
        # The label's own brackets would nest here: name and id are said apart.
        name = flow.name.strip()
        which = f"flow {name}, id {flow.flow_id}" if name else f"flow {flow.flow_id}"
        values_for = "a value for" if len(typed) == 1 else "values for"
        message = f"Type {values_for} {_join(typed)} for this call ({which})"
        missing = [name for name in missing if name not in typed] + typed
    details: list[str] = []
    calling = per_call is not None  # a call: its values come from the contact called
    if no_contact and calling:
        details.append(
            f"the number called is not one of your contacts, so {_join(no_contact)} "
            "cannot come from a contact"
        )
    elif no_contact:
        details.append(f"select a contact to fill {_join(no_contact)}")
    if empty_fields:
        who = (
            contact_name.strip()
            or ((contact_fields or {}).get("name") or "").strip()
            or ("the contact called" if calling else "the selected contact")
        )
        labels = [CONTACT_FIELDS[key] for key in empty_fields]
        verb = "is" if len(labels) == 1 else "are"
        details.append(f"{_join(labels)} {verb} empty for {who}")
    if details:
        message += ": " + "; ".join(details)
    raise MissingVariables(message, tuple(missing), flow_id=flow.flow_id)


def render_prompt(
    flow: FlowDefinition, contact_fields: Mapping[str, str] | None
) -> tuple[str, tuple[str, ...]]:
    """The preview: the prompt with every known value in place and unknown ones left as
    ``{Name}``, plus the names still missing. ``{{``/``}}`` show as single braces. Never
    raises."""
    values, missing, _, _ = _lookup(flow, contact_fields)
    parts = [
        (values.get(text, f"{{{text}}}") if is_name else text)
        for is_name, text in _parse(flow.prompt)
    ]
    return "".join(parts), tuple(missing)


def call_flow(
    flow: FlowDefinition,
    contact_fields: Mapping[str, str] | None,
    *,
    contact_name: str = "",
) -> Flow:
    """The :class:`~dialer.core.calls.Flow` a call carries; raises :class:`MissingVariables`."""
    return Flow(flow.flow_id, resolve_variables(flow, contact_fields, contact_name=contact_name))


# -- the flows file -------------------------------------------------------------------------

_FLOW_KEYS = frozenset({"account", "flow_id", "name", "prompt", "bindings"})
_BINDING_KEYS = {"field": "contact_field", "value": "value"}


def _flow_to_toml(flow: FlowDefinition) -> dict[str, Any]:
    data: dict[str, Any] = {"account": flow.account, "flow_id": flow.flow_id, "name": flow.name}
    if flow.prompt:
        data["prompt"] = flow.prompt
    bindings: dict[str, dict[str, str]] = {}
    for variable, binding in flow.bindings.items():
        if binding.contact_field is not None:
            bindings[variable] = {"field": binding.contact_field}
        elif binding.value is not None:
            bindings[variable] = {"value": binding.value}
    if bindings:
        data["bindings"] = bindings
    return data


def _flow_from_toml(position: int, data: object) -> FlowDefinition:
    """One ``[[flows]]`` table; raises ValueError with the problem (the caller names the file)."""
    where = f"flow #{position}"
    if not isinstance(data, dict):
        raise ValueError(f"{where} is not a table")
    if isinstance(data.get("flow_id"), str):
        where += f" (id {data['flow_id']})"
    unknown = set(data) - _FLOW_KEYS
    if unknown:
        raise ValueError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
    for key in ("account", "flow_id", "name"):
        if key not in data:
            raise ValueError(f"{where} has no {key}")
    for key in ("account", "flow_id", "name", "prompt"):
        if key in data and not isinstance(data[key], str):
            raise ValueError(f"{where}: {key} must be a string")
    raw_bindings = data.get("bindings", {})
    if not isinstance(raw_bindings, dict):
        raise ValueError(f"{where}: bindings must be a table")
    bindings: dict[str, VariableBinding] = {}
    for variable, raw in raw_bindings.items():
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: the binding of {variable} must be a table")
        unknown = set(raw) - set(_BINDING_KEYS)
        if unknown:
            raise ValueError(
                f"{where}: the binding of {variable} has unknown keys: {', '.join(sorted(unknown))}"
            )
        if len(raw) != 1:
            raise ValueError(f"{where}: the binding of {variable} needs either field or value")
        ((key, text),) = raw.items()
        if not isinstance(text, str):
            raise ValueError(f"{where}: the {key} of {variable} must be a string")
        try:
            bindings[variable] = VariableBinding(**{_BINDING_KEYS[key]: text})
        except InvalidInput as exc:
            raise ValueError(f"{where}: {exc}") from None
    try:
        return FlowDefinition(
            account=data["account"],
            flow_id=data["flow_id"],
            name=data["name"],
            prompt=data.get("prompt", ""),
            bindings=bindings,
        )
    except InvalidInput as exc:
        raise ValueError(f"{where}: {exc}") from None


def _sort_key(flow: FlowDefinition) -> tuple[str, str, str, str, str]:
    return (flow.account.casefold(), flow.account, flow.name.casefold(), flow.name, flow.flow_id)


class FlowStore:
    """The flows file. Reads are cheap; writes replace the file atomically."""

    def __init__(self, path: Path):
        self.path = path

    def _read(self) -> dict[tuple[str, str], FlowDefinition]:
        raw = read_toml(self.path, "flows")
        if raw is None:
            return {}
        try:
            return self._parse(raw)
        except ValueError as exc:
            raise ConfigError(f"The flows file {self.path} is malformed: {exc}") from None

    @staticmethod
    def _parse(raw: dict[str, Any]) -> dict[tuple[str, str], FlowDefinition]:
        unknown = set(raw) - {"flows"}
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        tables = raw.get("flows", [])
        if not isinstance(tables, list):
            raise ValueError("flows must be an array of tables ([[flows]])")
        flows: dict[tuple[str, str], FlowDefinition] = {}
        for position, data in enumerate(tables, start=1):
            flow = _flow_from_toml(position, data)
            if flow.key in flows:
                raise ValueError(
                    f"flow #{position} repeats flow {flow.flow_id} of account '{flow.account}'"
                )
            flows[flow.key] = flow
        return flows

    def _write(self, flows: Mapping[tuple[str, str], FlowDefinition]) -> None:
        doc = {"flows": [_flow_to_toml(flow) for flow in sorted(flows.values(), key=_sort_key)]}
        write_toml_atomically(self.path, doc)

    def list(self, account: str | None = None) -> list[FlowDefinition]:
        """Every flow, or one account's, sorted by account then name."""
        flows = self._read().values()
        return sorted((f for f in flows if account is None or f.account == account), key=_sort_key)

    def get(self, account: str, flow_id: str) -> FlowDefinition:
        try:
            return self._read()[account, flow_id]
        except KeyError:
            raise ConfigError(f"Account '{account}' has no flow {flow_id}") from None

    def save(self, flow: FlowDefinition) -> None:
        """Add the flow, or replace the one with the same account and id."""
        flows = self._read()
        flows[flow.key] = flow
        self._write(flows)
        logger.debug("Saved flow %s of account %r", flow.flow_id, flow.account)

    def delete(self, account: str, flow_id: str) -> None:
        flows = self._read()
        if flows.pop((account, flow_id), None) is None:
            raise ConfigError(f"Account '{account}' has no flow {flow_id}")
        self._write(flows)
        logger.debug("Deleted flow %s of account %r", flow_id, account)

    def delete_account(self, account: str) -> int:
        """Forget every flow of an account (when the account is removed); how many went."""
        flows = self._read()
        kept = {key: flow for key, flow in flows.items() if flow.account != account}
        removed = len(flows) - len(kept)
        if removed:
            self._write(kept)
            logger.debug("Deleted %d flows of account %r", removed, account)
        return removed


def demo_flows(account: str) -> list[FlowDefinition]:
    """The two flows the provider simulator knows for the demo C2C v2 account. Flow 221
    leaves ``order`` unset on purpose: the demo shows a call blocked by a missing value."""
    return [
        FlowDefinition(
            account=account,
            flow_id="220",
            name="Login OTP",
            prompt="Hello {Name}, your otp for login is {otp}",
            bindings={
                "Name": VariableBinding.from_contact("name"),
                "otp": VariableBinding.typed("12344"),
            },
        ),
        FlowDefinition(
            account=account,
            flow_id="221",
            name="Order shipped",
            prompt="Hi {Name}, your order {order} ships today",
            bindings={"Name": VariableBinding.from_contact("first_name")},
        ),
    ]


__all__ = [
    "CONTACT_FIELDS",
    "FlowDefinition",
    "FlowStore",
    "MissingVariables",
    "VariableBinding",
    "call_flow",
    "demo_flows",
    "is_variable_name",
    "placeholders",
    "render_prompt",
    "resolve_variables",
]
