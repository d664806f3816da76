"""The signed session cookie, renewed by page loads only.

Flask re-sends a permanent session's cookie on every response to slide its expiry. A page's
background fetches (the live history, the chat list, the heartbeat) read the cookie when they
leave; when one is answered after a form's answer, re-sending what it read puts back the
session as it was before the form, and the flash message the form set ("Template sent.") is
gone. So a response writes the cookie only when its request changed the session, or when the
browser says it is loading a page (`Sec-Fetch-Mode: navigate`, or no such header from an older
browser or a script). The sign-in record (auth/sessions.py) still slides on every request, and
an agent's shift renews the cookie with every page and every form they send.
"""
from __future__ import annotations

from flask import request
from flask.sessions import SecureCookieSessionInterface


class PageRenewedSessions(SecureCookieSessionInterface):
    def should_set_cookie(self, app, session) -> bool:
        if session.modified:
            return True
        if request.headers.get("Sec-Fetch-Mode", "navigate") != "navigate":
            return False
        return super().should_set_cookie(app, session)
