"""Why a send failed, as exception classes the sender can act on.

The one question the sender asks is "may I try again without risking a duplicate for the
customer?", so the hierarchy is split on that first (RetryableError vs PermanentError), with
UnknownOutcomeError apart: the request may have reached Meta, so it is neither retried nor
reported as undelivered — a person has to look.

Meta codes come from the Cloud API error-code reference; pywa's `pywa.errors` was read as a map of
the codes, but these classes are ours (pywa's are bound to its client and responses).
"""
from __future__ import annotations

from typing import Any, Mapping

from connector.policy.window import WINDOW_CLOSED_CODE


class SendError(Exception):
    """Base for every outbound failure. `code` is Meta's code when Meta gave one, else ours.

    `advice` is what a person can do about it, shown to the agent beside the failed message."""

    retryable = False
    advice = "The message was not delivered. Try again; if it fails again, ask an admin to check the connector's log."

    def __init__(
        self,
        title: str,
        *,
        code: int | str | None = None,
        detail: str = "",
        http_status: int | None = None,
        subcode: int | None = None,
        fbtrace_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        text = title if code is None else f"{code}: {title}"
        super().__init__(f"{text} ({detail})" if detail else text)
        self.title = title
        self.code = code
        self.detail = detail
        self.http_status = http_status
        self.subcode = subcode
        self.fbtrace_id = fbtrace_id
        self.retry_after = retry_after


class RetryableError(SendError):
    """Meta did not accept the message; sending it again cannot duplicate it."""

    retryable = True


class NetworkError(RetryableError):
    """The connection failed before the request was sent (connect error/timeout, pool timeout)."""


class ServerError(RetryableError):
    """HTTP 5xx or one of Meta's generic temporary codes."""


class ThrottledError(RetryableError):
    """Too fast: HTTP 429, app/account throughput (130429, 80007, 4) or pair rate (131056)."""

    advice = "WhatsApp's rate limit: it was retried and still refused. Wait a few minutes, then send it again."


class PermanentError(SendError):
    """Sending the same request again will fail again; recorded for a person and raised."""


class RefusedError(PermanentError):
    """Refused by us: this attempt never reached Meta."""


class WindowClosedError(RefusedError):
    """The 24 h window is closed, only templates may go out."""

    advice = "The 24-hour window is closed: send an approved template instead."


class TooManyQueuedError(RefusedError):
    """This recipient's pacing queue, or the number's (its throughput), is longer than allowed."""

    advice = "Too many messages are waiting to go out: wait a minute, then send it again."


class NoConsentError(RefusedError):
    """A business-initiated message to a contact with no opt-in for its purpose
    (connector.policy.consent decides); it must never go, so it is never retried."""

    advice = "The customer has not opted in to this kind of message: it cannot be sent."


class TemplateNotSendableError(RefusedError):
    """The template is unknown, not approved (pending, rejected, paused, disabled), or its
    parameters do not fit it (connector.policy.templates decides)."""


class DeferredError(RefusedError):
    """Not now, but later: the message is kept and sent at `retry_at`, or, when that is None,
    once a person acts (a lead resuming marketing). Never a reason to drop a message."""

    def __init__(self, title: str, *, retry_at=None, **kwargs: Any) -> None:
        super().__init__(title, **kwargs)
        self.retry_at = retry_at


class TierLimitError(DeferredError):
    """The messaging tier's limit of unique contacts in a moving 24 h is reached;
    `retry_at` is when the oldest of them leaves the window."""


class MarketingPausedError(DeferredError):
    """The number's quality dropped (flagged or red): marketing waits for a lead to resume it."""


class ReEngagementError(PermanentError):
    """131047 (connector.policy.window.WINDOW_CLOSED_CODE): Meta says the window is closed."""

    advice = WindowClosedError.advice


class UndeliverableError(PermanentError):
    """131026: the number is not on WhatsApp, has not accepted the terms, or runs an old app."""

    advice = ("WhatsApp cannot deliver to this number (not on WhatsApp, terms not accepted, or an old "
              "app). Sending again will not help: reach the customer another way.")


class InvalidRequestError(PermanentError):
    """The request itself is wrong (100, 131008, 131009, 131051, template errors...)."""

    advice = "WhatsApp refused the message as written: change it (or the template's parameters) and send it again."


class AuthError(PermanentError):
    """Token expired or lacks permission (190, 0, 3, 10, 200–299); no send works until fixed."""

    advice = "The WhatsApp access token is not valid: ask an admin to fix it. Nothing can be sent until then."


class MediaError(PermanentError):
    """Media could not be downloaded or uploaded by Meta (131052, 131053)."""

    advice = "WhatsApp could not handle the file: send it again, or another format."


class BlockedError(PermanentError):
    """The sending account is restricted (368, 131031, 130497, 131048 spam limit...)."""

    advice = "The WhatsApp account is restricted: tell a lead; messages cannot go out until Meta lifts it."


class UnknownOutcomeError(SendError):
    """The request may have been accepted (read timeout, dropped connection after sending,
    ambiguous gateway timeout). Not retried: a retry could deliver the message twice."""

    advice = "It may or may not have reached the customer: ask them before sending it again."


# Meta code → class. Codes not listed fall back on the HTTP status (see `from_graph`).
_BY_CODE: dict[int, type[SendError]] = {
    1: ServerError,
    2: ServerError,
    131000: ServerError,
    131016: ServerError,
    133004: ServerError,
    4: ThrottledError,
    80007: ThrottledError,
    130429: ThrottledError,
    131056: ThrottledError,
    WINDOW_CLOSED_CODE: ReEngagementError,
    131026: UndeliverableError,
    100: InvalidRequestError,
    131008: InvalidRequestError,
    131009: InvalidRequestError,
    131021: InvalidRequestError,
    131051: InvalidRequestError,
    131030: InvalidRequestError,
    131050: InvalidRequestError,
    131049: InvalidRequestError,
    131062: InvalidRequestError,
    0: AuthError,
    3: AuthError,
    10: AuthError,
    190: AuthError,
    131005: AuthError,
    131052: MediaError,
    131053: MediaError,
    368: BlockedError,
    131031: BlockedError,
    130497: BlockedError,
    131048: BlockedError,
    131042: BlockedError,
    131057: BlockedError,
}


def class_for_code(code: int | None, http_status: int | None = None) -> type[SendError]:
    if code is not None:
        if code in _BY_CODE:
            return _BY_CODE[code]
        if 200 <= code < 300:
            return AuthError
        if 132000 <= code < 133000:
            return InvalidRequestError  # template errors
    if http_status == 429:
        return ThrottledError
    if http_status is not None and http_status >= 500:
        return ServerError
    return PermanentError


# Our own codes for messages that never reached Meta (the sender's, the output channel's).
_BY_NAME: dict[str, type[SendError]] = {
    "window_closed": WindowClosedError,
    "limits": InvalidRequestError,
    "pacing": TooManyQueuedError,
    "throughput": TooManyQueuedError,
    "unknown_outcome": UnknownOutcomeError,
}


def advice_for(code: int | str | None) -> str:
    """What a person can do about a message that failed with `code` (Meta's, or ours)."""
    number = _int(code)
    if number is not None:
        return class_for_code(number).advice
    return _BY_NAME.get(str(code or ""), SendError).advice


def from_graph(http_status: int, payload: Any, retry_after: float | None = None) -> SendError:
    """Build the error for a non-2xx Graph response (`payload` is the parsed JSON or None)."""
    error = payload.get("error") if isinstance(payload, Mapping) else None
    if not isinstance(error, Mapping):
        cls = class_for_code(None, http_status)
        return cls(f"HTTP {http_status} without a Graph error body", code=None,
                   http_status=http_status, retry_after=retry_after)
    code = _int(error.get("code"))
    cls = class_for_code(code, http_status)
    # An unlisted code that Meta itself marks transient is worth another try.
    if cls is PermanentError and error.get("is_transient") is True:
        cls = ServerError
    data = error.get("error_data")
    detail = data.get("details", "") if isinstance(data, Mapping) else (data or "")
    return cls(
        str(error.get("message") or error.get("error_user_title") or "Graph API error"),
        code=code,
        detail=str(detail),
        http_status=http_status,
        subcode=_int(error.get("error_subcode")),
        fbtrace_id=error.get("fbtrace_id"),
        retry_after=retry_after,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
