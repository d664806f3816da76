"""Meta's error vocabulary, hard-coded so the emulator needs nothing from ../shared at run time."""
from __future__ import annotations

import secrets

# code -> (title, default HTTP status). Titles are the ones Meta puts in error payloads and
# in `failed` status webhooks, so client code that branches on them sees the real strings.
CATALOG: dict[int, tuple[str, int]] = {
    1: ("An unknown error occurred", 500),
    2: ("Service temporarily unavailable", 503),
    4: ("Application request limit reached", 400),
    100: ("Invalid parameter", 400),
    190: ("Invalid OAuth access token", 401),
    130429: ("Rate limit hit", 429),
    131000: ("Something went wrong", 500),
    131005: ("Access denied", 403),
    131008: ("Required parameter is missing", 400),
    131009: ("Parameter value is not valid", 400),
    131026: ("Message undeliverable", 400),
    131047: ("Re-engagement message", 400),
    131048: ("Spam rate limit hit", 400),
    131053: ("Media upload error", 400),
    131056: ("(Business Account, Consumer Account) pair rate limit hit", 400),
    132000: ("Number of parameters does not match the expected number of params", 400),
    132001: ("Template does not exist", 404),
    133010: ("Phone number not registered", 400),
}

DEFAULT_DETAILS = {
    131047: "Message failed to send because more than 24 hours have passed since the customer "
            "last replied to this number.",
    131026: "Message undeliverable.",
    131056: "Too many messages sent from this phone number to the same phone number in a short "
            "period of time.",
    130429: "Cloud API message throughput has been reached.",
    131000: "Something went wrong.",
}

ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# Meta answers 400 for most WhatsApp-specific codes; a fault that only names an HTTP status
# gets the code Meta pairs with it.
CODE_FOR_HTTP = {400: 100, 401: 190, 403: 131005, 404: 100, 429: 130429, 500: 131000, 503: 2}


def title_for(code: int) -> str:
    return CATALOG.get(code, ("Unknown error", 400))[0]


def fbtrace_id() -> str:
    return secrets.token_urlsafe(16)[:23]


class ApiError(Exception):
    """A synchronous Graph API error, rendered exactly in Meta's envelope."""

    def __init__(self, code: int, details: str | None = None, *, http: int | None = None,
                 message: str | None = None, subcode: int | None = None,
                 error_type: str = "OAuthException") -> None:
        self.code = code
        self.details = details if details is not None else DEFAULT_DETAILS.get(code, title_for(code))
        self.http = http or CATALOG.get(code, ("", 400))[1]
        self.message = message or f"(#{code}) {title_for(code)}"
        self.subcode = subcode
        self.error_type = error_type
        self.headers: dict[str, str] = {}
        super().__init__(self.message)

    def body(self) -> dict:
        error: dict = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
            "error_data": {"messaging_product": "whatsapp", "details": self.details},
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}


def missing(param: str) -> ApiError:
    return ApiError(131008, f"The parameter {param} is required.")


def invalid(details: str) -> ApiError:
    return ApiError(131009, details)


def bad_param(details: str) -> ApiError:
    return ApiError(100, details)


def token_error(present: bool) -> ApiError:
    # Meta distinguishes an absent token from a wrong one only in the message text.
    message = ("Invalid OAuth access token - Cannot parse access token" if present
               else "An active access token must be used to query information about the current user.")
    return ApiError(190, message, http=401, message=message)


def unknown_object(object_id: str) -> ApiError:
    message = (f"Unsupported post request. Object with ID '{object_id}' does not exist, cannot be "
               "loaded due to missing permissions, or does not support this operation. Please read "
               "the Graph API documentation at https://developers.facebook.com/docs/graph-api")
    return ApiError(100, message, http=400, message=message, subcode=33,
                    error_type="GraphMethodException")


def status_error(code: int, details: str | None = None, title: str | None = None) -> dict:
    """The `errors[]` entry of a `failed` status webhook."""
    title = title or title_for(code)
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or DEFAULT_DETAILS.get(code, title)},
        "href": ERROR_HREF,
    }
