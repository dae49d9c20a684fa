"""Call limits as an account holds them: patterns, sentences, and the accounts file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dialer.core.accounts import Account, AccountStore, ProviderKind
from dialer.core.errors import ConfigError, InvalidInput
from dialer.core.limits import (
    DEFAULT_PER_DAY,
    DEFAULT_PER_MINUTE,
    CallLimits,
    number_allowed,
    parse_patterns,
    refusal,
    when,
)


def test_patterns_are_numbers_with_an_optional_trailing_star() -> None:
    assert parse_patterns("+91 80-*, +44 (20) 7946 0000\n+9180*") == ("+9180*", "+442079460000")
    assert number_allowed("+918040000000", ["+9180*"])
    assert not number_allowed("+918840000000", ["+9180*"])
    assert number_allowed("+442079460000", ["+442079460000"])
    assert not number_allowed("+4420794600001", ["+442079460000"])  # no star: exactly


@pytest.mark.parametrize("typed", ["9180*", "+91*80", "+91.*", "^\\+9180", "+0180*", "*"])
def test_anything_else_is_refused_with_an_example(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_patterns(typed)
    assert str(refused.value).endswith(
        "is not a number pattern: write a number in international form, with a * at the end "
        "to allow every number that starts with it (for example +9180*)"
    )


def test_limits_are_whole_numbers_from_zero() -> None:
    with pytest.raises(InvalidInput, match=r"^'Calls a minute' must be a whole number from 0 "):
        CallLimits(per_minute=-1)
    with pytest.raises(InvalidInput, match=r"^'Calls a day per agent' must be"):
        CallLimits(agent_per_day=True)
    assert CallLimits(per_minute=0).windows[0][0] == "per_day"  # 0: no limit


def test_the_sentence_says_which_limit_and_when_it_frees_up() -> None:
    now = time.mktime((2026, 12, 4, 10, 0, 0, 0, 0, -1))
    assert str(refusal("Sales", "per_minute", 1, now + 12.2, now=now)) == (
        "Account 'Sales' may place at most 1 call a minute; the next call can be placed in "
        "13 seconds (at 10:00:12)"
    )
    assert str(refusal("Sales", "agent_per_day", 500, now + 15 * 3600, agent="+91", now=now)) == (
        "Agent +91 may place at most 500 calls a day (24 hours) through account 'Sales'; the "
        "next call can be placed in 15 hours (at 01:00 tomorrow)"
    )
    assert when(now + 600, now) == "in 10 minutes (at 10:10:00)"


def test_an_account_without_limits_in_its_file_takes_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text('[accounts.old]\nprovider = "c2c-v2"\nurl = "https://example.com/"\n')
    limits = AccountStore(path).get("old").limits
    assert (limits.per_minute, limits.per_day) == (DEFAULT_PER_MINUTE, DEFAULT_PER_DAY)
    assert (limits.agent_per_minute, limits.agent_per_day) == (6, 500)
    assert limits.allowed_numbers == ()


def test_limits_are_saved_only_where_they_differ_from_the_defaults(tmp_path: Path) -> None:
    store = AccountStore(tmp_path / "accounts.toml")
    limits = CallLimits(per_minute=2, agent_per_day=0, allowed_numbers=("+9180*",))
    store.add(Account("a", ProviderKind.C2C_V2, "https://example.com/", limits=limits))
    text = store.path.read_text()
    assert "[accounts.a.limits]" in text
    assert "per_day" not in text.replace("agent_per_day", "")
    assert store.get("a").limits == limits
    store.add(Account("b", ProviderKind.C2C_V2, "https://example.com/"))
    assert "[accounts.b.limits]" not in store.path.read_text()


@pytest.mark.parametrize(
    ("written", "sentence"),
    [
        ("per_minute = -3", "Account 'a' in the accounts file: 'Calls a minute' must be"),
        ('per_minute = "6"', "Account 'a': the limit per_minute must be a whole number"),
        ('allowed_numbers = "+9180*"', "Account 'a': allowed_numbers must be a list of quoted"),
        ('allowed_numbers = ["080*"]', "Account 'a' in the accounts file: '080*' is not a number"),
        ("per_hour = 3", "Account 'a' has unknown limits: per_hour"),
    ],
)
def test_a_hand_edited_limit_that_is_wrong_is_named(
    tmp_path: Path, written: str, sentence: str
) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text(
        f'[accounts.a]\nprovider = "c2c-v2"\nurl = "https://example.com/"\n'
        f"[accounts.a.limits]\n{written}\n"
    )
    with pytest.raises(ConfigError) as refused:
        AccountStore(path).get("a")
    assert str(refused.value).startswith(sentence)
