"""Opaque conversation references for URLs and the event stream.

A conversation id is the customer's phone number; in URLs it would land in browser history,
proxy logs and screenshots. The console shows `/c/<ref>` instead, where ref = HMAC(secret, id),
and keeps `console:ref:{ref}` so the server can map it back.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app
from werkzeug.routing import BaseConverter, ValidationError

TTL_SECONDS = 90 * 24 * 3600
EXTENSION = "console_refs"


class ConversationRefs:
    def __init__(self, redis, secret: str) -> None:
        self.redis = redis
        self._key = hashlib.sha256(("console-conversation-ref:" + secret).encode()).digest()

    def compute(self, conversation_id: str) -> str:
        return hmac.new(self._key, conversation_id.encode(), hashlib.sha256).hexdigest()[:24]

    def ref(self, conversation_id: str) -> str:
        ref = self.compute(conversation_id)
        self.redis.set(f"console:ref:{ref}", conversation_id, ex=TTL_SECONDS)
        return ref

    def resolve(self, ref: str) -> str | None:
        return self.redis.get(f"console:ref:{ref}")


class ConversationConverter(BaseConverter):
    """`<conv:conversation_id>`: views receive the real id, url_for() writes the reference."""

    regex = r"[0-9a-f]{24}"

    def to_python(self, value: str) -> str:
        conversation_id = current().resolve(value)
        if conversation_id is None:
            raise ValidationError()
        return conversation_id

    def to_url(self, value: str) -> str:
        return current().ref(value)


def current() -> ConversationRefs:
    return current_app.extensions[EXTENSION]


def init_app(app: Flask, redis, secret: str) -> None:
    """`<conv:...>` in routes and `|ref` in templates: both write the reference, never the id."""
    app.extensions[EXTENSION] = ConversationRefs(redis, secret)
    app.url_map.converters["conv"] = ConversationConverter
    app.jinja_env.filters["ref"] = lambda conversation_id: current().ref(conversation_id)
