"""Typed errors: every failure a user can meet is one of these, with one clear sentence.

The CLI maps each class to an exit code and the GUI shows ``str(error)`` inline; neither
needs to know which provider raised it. Messages never carry a secret: provider text is
passed through :func:`dialer.core.redact.excerpt` before it is put in an error.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


class DialerError(Exception):
    """Base of every expected failure. ``str(err)`` is the sentence shown to the user.

    The sentence is scrubbed as the error is made (:func:`dialer.core.redact.scrub_known`:
    every secret this process has read, however quoted, and any Bearer token), so no path
    from an error to a message, a log line or the history can carry one: the history stores
    ``str(err)``."""

    exit_code = 1

    def __init__(self, *args: object) -> None:
        from dialer.core.redact import scrub_known

        super().__init__(*(scrub_known(arg) if isinstance(arg, str) else arg for arg in args))


class InvalidInput(DialerError):
    """The user asked for something malformed or impossible; nothing was sent."""

    exit_code = 2


class InvalidNumber(InvalidInput):
    """A phone number that cannot be dialled (too short, unknown country, ...)."""


class CallInProgress(InvalidInput):
    """The same call is already being placed (a double click): it is not placed twice."""


class UnsupportedOption(InvalidInput):
    """An option the chosen provider cannot do (``--flow`` on a provider without IVR flows)."""


class ConfigError(DialerError):
    """The account configuration is missing, unreadable or inconsistent."""

    exit_code = 2


class SecretStoreError(DialerError):
    """The OS keyring is missing, locked or refused us. The message names the fix."""

    exit_code = 2


class ProviderError(DialerError):
    """Base for failures that came from (or on the way to) a provider."""

    def __init__(self, message: str, *, provider: str = "", status_code: int | None = None):
        super().__init__(message)
        self.provider = provider
        self.status_code = status_code


class AuthenticationRefused(ProviderError):
    """The provider refused our credentials (token, PIN, API key, password, authcode)."""

    exit_code = 3


class CallRejected(ProviderError):
    """The provider answered and said no; ``provider_message`` is its own words."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status_code: int | None = None,
        provider_message: str = "",
        details: dict[str, str] | None = None,
    ):
        super().__init__(message, provider=provider, status_code=status_code)
        self.provider_message = provider_message
        self.details = details or {}


class UnexpectedAnswer(ProviderError):
    """The provider answered with something we cannot read (HTML, malformed JSON...).

    Whether the call was placed is unknown, so the CLI treats it like a refusal (exit 3)
    rather than like an outage (exit 4): retrying it could ring the customer twice.
    """

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status_code: int | None = None,
        body_excerpt: str = "",
    ):
        super().__init__(message, provider=provider, status_code=status_code)
        self.body_excerpt = body_excerpt


class UnexpectedFailure(ProviderError):
    """Placing a call failed in a way no provider answer explains (a fault of ours or of a
    library, logged in full). Whether the request left is unknown: like an unreadable
    answer, exit 3, not to be retried blindly."""

    exit_code = 3


class ProviderUnreachable(ProviderError):
    """Timeout, refused connection, TLS failure or a 5xx: the provider could not serve us."""

    exit_code = 4


class TeamDatabaseError(DialerError):
    """The team's PostgreSQL database refused or failed us (wrong password, no such
    database, a permission PostgreSQL itself denies). The message says which."""

    exit_code = 2


class TeamUnreachable(TeamDatabaseError):
    """The team database cannot be reached now (down, no network, too slow): calls are kept
    on this desktop and sent when it is back."""

    exit_code = 4


def error_sentence(error: BaseException, doing: str) -> str:
    """The one sentence a person is shown for a failure, in the window and on the command
    line alike: an expected failure's own sentence, else a generic one (the exception is
    logged in full, redacted, for the details). Every secret the process knows is masked."""
    from dialer.core.redact import scrub

    if isinstance(error, DialerError):
        return scrub(str(error))
    logger.error("Unexpected error while %s", doing, exc_info=error)
    return (
        f"Something unexpected went wrong while {doing} ({type(error).__name__}); "
        "the details are in the log"
    )
