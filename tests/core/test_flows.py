from __future__ import annotations

import copy
import dataclasses
import logging
import os
import tomllib
from pathlib import Path

import pytest

from dialer.core.calls import Flow
from dialer.core.errors import ConfigError, InvalidInput
from dialer.core.flows import (
    CONTACT_FIELDS,
    FlowDefinition,
    FlowStore,
    MissingVariables,
    VariableBinding,
    call_flow,
    demo_flows,
    placeholders,
    render_prompt,
    resolve_variables,
)

ASHA = {"name": "Asha Rao", "first_name": "Asha", "company": "", "email": "asha@example.com"}


def make(prompt: str = "", flow_id: str = "220", **bindings: VariableBinding) -> FlowDefinition:
    return FlowDefinition("work", flow_id, "OTP", prompt, bindings)


# -- placeholders ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("Hello {Name}, your otp for login is {otp}", ("Name", "otp")),
        ("{otp} then {Name} then {otp} again", ("otp", "Name")),  # unique, first appearance
        ("no variables at all", ()),
        ("", ()),
        ("{a_1}{_private}{B}", ("a_1", "_private", "B")),
        ("{{literal}} and {{{real}}}", ("real",)),  # {{ and }} are braces
        ("{{Name}", ()),
        ("{Name}}", ("Name",)),
        ("unbalanced { brace {Name} and } here", ("Name",)),
        ("{ {Name}", ("Name",)),
        ("{Name", ()),
        ("Name}", ()),
        ("{}", ()),
        ("{2fa} {9} {otp2}", ("otp2",)),  # digits first is text
        ("{first name} {first-name} {first.name} { Name }", ()),
        ("{नाम} and {Név} and {имя}", ("नाम", "Név", "имя")),  # Unicode letters count
        ("{٣x}", ()),  # a non-ASCII digit cannot start a name either
    ],
)
def test_placeholders(prompt: str, expected: tuple[str, ...]) -> None:
    assert placeholders(prompt) == expected
    assert make(prompt).placeholders == expected


# -- bindings and definitions ---------------------------------------------------------------


def test_binding_validation() -> None:
    assert VariableBinding().is_unset
    assert VariableBinding.typed("1234") == VariableBinding(value="1234")
    assert VariableBinding.from_contact("company") == VariableBinding(contact_field="company")
    with pytest.raises(InvalidInput, match="either a typed value or a contact field, not both"):
        VariableBinding(value="x", contact_field="name")
    with pytest.raises(InvalidInput, match="'surname' is not a contact field"):
        VariableBinding(contact_field="surname")
    assert set(CONTACT_FIELDS) == {"name", "first_name", "company", "email", "number", "notes"}


@pytest.mark.parametrize("flow_id", ["", " 220", "220 ", "2 20", "flow:220", "22\t0"])
def test_flow_id_refused(flow_id: str) -> None:
    with pytest.raises(InvalidInput):
        FlowDefinition("work", flow_id, "OTP")


def test_definition_refuses_bad_parts() -> None:
    with pytest.raises(InvalidInput, match="account"):
        FlowDefinition(" ", "220", "OTP")
    with pytest.raises(InvalidInput, match="'1st' is not a variable name"):
        FlowDefinition("work", "220", "OTP", "{1st}", {"1st": VariableBinding(value="x")})


def test_definition_copies_bindings_and_is_hashable() -> None:
    given = {"otp": VariableBinding(value="1"), "Name": VariableBinding()}
    flow = FlowDefinition("work", "220", "OTP", "{Name} {otp}", given)
    given["otp"] = VariableBinding(value="2")
    assert flow.bindings == {"otp": VariableBinding(value="1")}  # a copy; unset ones dropped
    assert copy.deepcopy(flow) == flow
    assert dataclasses.asdict(flow)["bindings"] == {"otp": {"value": "1", "contact_field": None}}
    assert hash(flow) == hash(make("{Name} {otp}", otp=VariableBinding(value="1")))
    assert flow.label == "220 (OTP)"
    assert FlowDefinition("work", "7", " ").label == "7"


def test_with_prompt_keeps_bindings_of_remaining_variables() -> None:
    flow = make(
        "Hello {Name}, your otp is {otp}",
        Name=VariableBinding(contact_field="name"),
        otp=VariableBinding(value="1234"),
    )
    edited = flow.with_prompt("Hi {Name}, order {order}")
    assert edited.prompt == "Hi {Name}, order {order}"
    assert edited.bindings == {"Name": VariableBinding(contact_field="name")}
    assert edited.binding("order").is_unset
    assert flow.bindings["otp"] == VariableBinding(value="1234")  # the original is untouched
    # A variable that becomes a literal ({{otp}}) is no longer a variable.
    assert flow.with_prompt("{{otp}} {Name}").bindings.keys() == {"Name"}


def test_with_binding() -> None:
    flow = make("Hello {Name}, your otp is {otp}")
    bound = flow.with_binding("otp", VariableBinding(value="99")).with_binding(
        "Name", VariableBinding(contact_field="first_name")
    )
    assert bound.bindings == {
        "otp": VariableBinding(value="99"),
        "Name": VariableBinding(contact_field="first_name"),
    }
    assert bound.with_binding("otp", VariableBinding()).bindings.keys() == {"Name"}
    with pytest.raises(InvalidInput, match=r"Flow 220 \(OTP\) has no variable \{otpp\}"):
        flow.with_binding("otpp", VariableBinding(value="1"))


# -- resolving ------------------------------------------------------------------------------


def test_resolve_typed_and_bound_values() -> None:
    flow = make(
        "Hello {Name}, {first} at {Company}: otp {otp}",
        Name=VariableBinding(contact_field="name"),
        first=VariableBinding(contact_field="first_name"),
        Company=VariableBinding(contact_field="company"),
        otp=VariableBinding(value=" 1234 "),
    )
    contact = {"name": "  Asha Rao ", "first_name": "Asha", "company": "Acme\n"}
    assert resolve_variables(flow, contact) == {
        "Name": "Asha Rao",
        "first": "Asha",
        "Company": "Acme",
        "otp": "1234",
    }
    assert call_flow(flow, contact) == Flow(
        "220", {"Name": "Asha Rao", "first": "Asha", "Company": "Acme", "otp": "1234"}
    )


def test_resolve_without_variables_needs_no_contact() -> None:
    assert resolve_variables(make("Press 1 to talk to us"), None) == {}


def test_resolve_typed_values_need_no_contact() -> None:
    flow = make("otp {otp}", otp=VariableBinding(value="12"))
    assert resolve_variables(flow, None) == {"otp": "12"}


def test_missing_unset_and_empty_typed_values() -> None:
    flow = make(
        "{otp} {Name} {ref}",
        Name=VariableBinding(value="   "),
        ref=VariableBinding(value="R1"),
    )
    with pytest.raises(MissingVariables) as caught:
        resolve_variables(flow, ASHA)
    assert caught.value.names == ("otp", "Name")
    assert caught.value.flow_id == "220"
    assert str(caught.value) == "Flow 220 (OTP) needs a value for otp and Name before it can call"
    assert isinstance(caught.value, InvalidInput)


def test_missing_bound_variable_without_a_contact() -> None:
    flow = make(
        "Hello {Name}, {first}, otp {otp}",
        Name=VariableBinding(contact_field="name"),
        first=VariableBinding(contact_field="first_name"),
        otp=VariableBinding(value="1"),
    )
    with pytest.raises(MissingVariables) as caught:
        resolve_variables(flow, None)
    assert caught.value.names == ("Name", "first")
    assert str(caught.value) == (
        "Flow 220 (OTP) needs a value for Name and first before it can call: "
        "select a contact to fill Name and first"
    )


def test_missing_empty_contact_fields_name_the_field_and_contact() -> None:
    flow = make(
        "{Company} {mail} {Phone} {Name} {co2} {otp}",
        Company=VariableBinding(contact_field="company"),
        mail=VariableBinding(contact_field="email"),
        Phone=VariableBinding(contact_field="number"),
        Name=VariableBinding(contact_field="name"),
        co2=VariableBinding(contact_field="company"),
    )
    with pytest.raises(MissingVariables) as caught:
        resolve_variables(flow, ASHA, contact_name="Asha R.")
    assert caught.value.names == ("Company", "Phone", "co2", "otp")
    assert str(caught.value) == (
        "Flow 220 (OTP) needs a value for Company, Phone, co2 and otp before it can call: "
        "Company and Phone number are empty for Asha R."
    )


def test_missing_contact_field_message_defaults_to_the_contacts_name() -> None:
    flow = make("{Company}", Company=VariableBinding(contact_field="company"))
    with pytest.raises(MissingVariables) as caught:
        resolve_variables(flow, ASHA)
    assert str(caught.value).endswith(": Company is empty for Asha Rao")
    with pytest.raises(MissingVariables) as caught:
        resolve_variables(flow, {})
    assert str(caught.value).endswith(": Company is empty for the selected contact")


def test_message_for_a_flow_without_a_name() -> None:
    flow = FlowDefinition("work", "9", "", "{x}")
    with pytest.raises(MissingVariables, match=r"^Flow 9 needs a value for x before it can call$"):
        resolve_variables(flow, None)


# -- preview --------------------------------------------------------------------------------


def test_render_prompt() -> None:
    flow = make(
        "Hello {Name}, your otp is {otp} ({{code}}) for {Company}; {{Name}}",
        Name=VariableBinding(contact_field="name"),
        otp=VariableBinding(value="1234"),
        Company=VariableBinding(contact_field="company"),
    )
    assert render_prompt(flow, ASHA) == (
        "Hello Asha Rao, your otp is 1234 ({code}) for {Company}; {Name}",
        ("Company",),
    )
    assert render_prompt(flow, None) == (
        "Hello {Name}, your otp is 1234 ({code}) for {Company}; {Name}",
        ("Name", "Company"),
    )
    # Malformed braces are shown as typed; a value containing braces is not re-parsed.
    odd = make("{ {x} } {2fa}", x=VariableBinding(value="{y}"))
    assert render_prompt(odd, None) == ("{ {y} } {2fa}", ())
    assert render_prompt(make(""), None) == ("", ())


# -- the store ------------------------------------------------------------------------------


def test_store_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "config" / "flows.toml"
    store = FlowStore(path)
    assert store.list() == []  # no file, no flows
    flows = [
        *demo_flows("Demo C2C v2"),
        FlowDefinition("Acme", "9", "b second", "Hi {नाम}\n\"quoted\" {{x}}",
                       {"नाम": VariableBinding(contact_field="notes")}),
        FlowDefinition("Acme", "10", "A first"),
    ]  # fmt: skip
    for flow in flows:
        store.save(flow)
    assert store.list() == [flows[3], flows[2], flows[0], flows[1]]
    assert store.list("Acme") == [flows[3], flows[2]]
    assert store.list("nobody") == []
    assert store.get("Demo C2C v2", "220") == flows[0]
    assert FlowStore(path).get("Acme", "9") == flows[2]

    text = path.read_text(encoding="utf-8")
    assert "[[flows]]" in text
    doc = tomllib.loads(text)
    assert doc["flows"][2] == {
        "account": "Demo C2C v2",
        "flow_id": "220",
        "name": "Login OTP",
        "prompt": "Hello {Name}, your otp for login is {otp}",
        "bindings": {"Name": {"field": "name"}, "otp": {"value": "12344"}},
    }
    assert doc["flows"][0] == {"account": "Acme", "flow_id": "10", "name": "A first"}


def test_save_replaces_same_account_and_id(tmp_path: Path) -> None:
    store = FlowStore(tmp_path / "flows.toml")
    store.save(FlowDefinition("a", "1", "old"))
    store.save(FlowDefinition("b", "1", "other account"))
    store.save(FlowDefinition("a", "1", "new", "{x}", {"x": VariableBinding(value="v")}))
    assert [(f.account, f.name) for f in store.list()] == [("a", "new"), ("b", "other account")]


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "flows.toml"
    store = FlowStore(path)
    for flow in demo_flows("demo"):
        store.save(flow)
    store.delete("demo", "221")
    assert sorted(os.listdir(tmp_path)) == ["flows.toml"]


def test_failed_write_keeps_the_old_file_and_no_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "flows.toml"
    store = FlowStore(path)
    store.save(FlowDefinition("a", "1", "kept"))
    before = path.read_bytes()

    def broken_replace(src: str, dst: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.save(FlowDefinition("a", "2", "lost"))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["flows.toml"]


def test_get_and_delete_unknown(tmp_path: Path) -> None:
    store = FlowStore(tmp_path / "flows.toml")
    store.save(FlowDefinition("a", "1", "x"))
    with pytest.raises(ConfigError, match="Account 'a' has no flow 2"):
        store.get("a", "2")
    with pytest.raises(ConfigError, match="Account 'b' has no flow 1"):
        store.delete("b", "1")
    store.delete("a", "1")
    assert store.list() == []


def test_delete_account(tmp_path: Path) -> None:
    path = tmp_path / "flows.toml"
    store = FlowStore(path)
    for flow in [*demo_flows("gone"), *demo_flows("stays")]:
        store.save(flow)
    assert store.delete_account("gone") == 2
    assert [f.account for f in store.list()] == ["stays", "stays"]
    mtime = path.stat().st_mtime_ns
    assert store.delete_account("gone") == 0
    assert path.stat().st_mtime_ns == mtime  # nothing to do, nothing written
    assert FlowStore(tmp_path / "absent.toml").delete_account("x") == 0
    assert not (tmp_path / "absent.toml").exists()


VALID = 'account = "a"\nflow_id = "1"\nname = "n"\n'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("flows = [", "Cannot read the flows file"),
        ("colour = 1\n", "is malformed: unknown keys: colour"),
        ('flows = "x"\n', r"is malformed: flows must be an array of tables \(\[\[flows\]\]\)"),
        ("flows = [1]\n", "is malformed: flow #1 is not a table"),
        (f"[[flows]]\n{VALID}colour = 1\n", r"flow #1 \(id 1\) has unknown keys: colour"),
        ('[[flows]]\naccount = "a"\nname = "n"\n', "flow #1 has no flow_id"),
        ('[[flows]]\naccount = "a"\nflow_id = 220\nname = "n"\n', "flow_id must be a string"),
        (f"[[flows]]\n{VALID}prompt = 3\n", "prompt must be a string"),
        (f"[[flows]]\n{VALID}bindings = 3\n", "bindings must be a table"),
        (f"[[flows]]\n{VALID}bindings = {{ x = 3 }}\n", "the binding of x must be a table"),
        (
            f'[[flows]]\n{VALID}bindings = {{ x = {{ colour = "red" }} }}\n',
            "the binding of x has unknown keys: colour",
        ),
        (f"[[flows]]\n{VALID}bindings = {{ x = {{}} }}\n", "needs either field or value"),
        (
            f'[[flows]]\n{VALID}bindings = {{ x = {{ field = "name", value = "v" }} }}\n',
            "needs either field or value",
        ),
        (f"[[flows]]\n{VALID}bindings = {{ x = {{ value = 1 }} }}\n", "value of x must be a str"),
        (
            f'[[flows]]\n{VALID}bindings = {{ x = {{ field = "surname" }} }}\n',
            "'surname' is not a contact field",
        ),
        (
            f'[[flows]]\n{VALID}bindings = {{ 1x = {{ value = "v" }} }}\n',
            "'1x' is not a variable name",
        ),
        ('[[flows]]\naccount = "a"\nflow_id = "flow:1"\nname = "n"\n', "is not a flow id"),
        (f"[[flows]]\n{VALID}[[flows]]\n{VALID}", "flow #2 repeats flow 1 of account 'a'"),
    ],
)
def test_malformed_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "flows.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=problem) as caught:
        FlowStore(path).list()
    assert str(path) in str(caught.value)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "flows.toml"
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(ConfigError, match="Cannot read the flows file"):
        FlowStore(path).list()


def test_values_are_not_logged_at_info(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="dialer.core.flows")
    store = FlowStore(tmp_path / "flows.toml")
    for flow in demo_flows("demo"):
        store.save(flow)
    store.delete_account("demo")
    assert all(record.levelno < logging.INFO for record in caplog.records)
    assert "12344" not in caplog.text


# -- the demo -------------------------------------------------------------------------------


def test_demo_flows() -> None:
    otp, order = demo_flows("Demo C2C v2")
    assert (otp.account, otp.flow_id, otp.name) == ("Demo C2C v2", "220", "Login OTP")
    assert otp.placeholders == ("Name", "otp")
    contact = {"name": "Asha Rao", "first_name": "Asha"}
    assert resolve_variables(otp, contact) == {"Name": "Asha Rao", "otp": "12344"}
    assert render_prompt(otp, contact) == ("Hello Asha Rao, your otp for login is 12344", ())

    assert (order.flow_id, order.name) == ("221", "Order shipped")
    assert render_prompt(order, contact) == ("Hi Asha, your order {order} ships today", ("order",))
    with pytest.raises(MissingVariables) as caught:
        resolve_variables(order, contact)
    assert caught.value.names == ("order",)
    assert str(caught.value) == (
        "Flow 221 (Order shipped) needs a value for order before it can call"
    )


def test_demo_prompts_match_the_simulator() -> None:
    from dialer.simulator.model import SimCredentials

    known = SimCredentials().c2c_flows
    assert {f.flow_id: f.prompt for f in demo_flows("x")} == known


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        (make("{otp}"), "Type a value for otp for this call (flow OTP, id 220)"),
        (make("{otp} {ref}"), "Type values for otp and ref for this call (flow OTP, id 220)"),
        (FlowDefinition("work", "9", "", "{x}"), "Type a value for x for this call (flow 9)"),
    ],
)
def test_values_typed_per_call_are_asked_for_in_one_plain_sentence(
    flow: FlowDefinition, expected: str
) -> None:
    with pytest.raises(MissingVariables) as caught:
        resolve_variables(flow, None, per_call={})
    assert str(caught.value) == expected
