"""The suite-wide rule that a logged warning fails a test unless the test expects it, run on
small suites of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = """
from tests.warnings_log import no_unexpected_warnings_logged
"""
INI = """
[pytest]
markers = allow_warnings_log(*patterns): expected WARNING+ records
asyncio_default_fixture_loop_scope = function
"""
TESTS = """
import logging

import pytest

log = logging.getLogger("dialer.example")


def test_quiet():
    log.info("nothing to see")


def test_unexpected():
    log.warning("the disk is on fire")


@pytest.mark.allow_warnings_log("^the provider said no")
def test_expected():
    log.error("the provider said no (HTTP 503)")


@pytest.mark.allow_warnings_log("^the provider said no")
def test_expected_and_another():
    log.warning("the provider said no")
    log.critical("and then the database went away")


@pytest.mark.allow_warnings_log("^the provider said no")
def test_caplog_still_sees_what_it_allows(caplog):
    log.warning("the provider said no")
    assert [r.getMessage() for r in caplog.records] == ["the provider said no"]
"""


def test_a_warning_fails_the_test_unless_it_is_declared(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In a process of its own: in this one, its warnings would reach this test's root logger.
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    pytester.makepyfile(test_logs=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unexpected*",
            "*WARNING dialer.example: the disk is on fire",
            "*ERROR at teardown of test_expected_and_another*",
            "*CRITICAL dialer.example: and then the database went away",
        ]
    )
    # Only the undeclared records are reported.
    result.stdout.no_fnmatch_line("*  ERROR dialer.example: the provider said no*")
    result.stdout.no_fnmatch_line("*  WARNING dialer.example: the provider said no*")
