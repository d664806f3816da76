"""Who a conversation belongs to, and where its replies go.

The conversation id (Rasa's sender_id) is fixed the first time a customer writes: their wa_id,
or their business-scoped user id (BSUID, "US.…") when the phone number is hidden. Every id
seen later for the same person (a BSUID that now comes with a wa_id, a new number from a
`user_changed_number` system message) becomes an alias of that first id, so the tracker,
the handoff state and the 24 h window follow the customer instead of starting over.

Keys (owned here): wa:id:alias:{id} → conversation id; wa:id:to:{conv} hash {wa_id, user_id};
wa:id:name:{conv} → WhatsApp profile name.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import redis

from connector.policy import contacts
from connector.webhook.types import Sender

logger = logging.getLogger(__name__)



def _alias(some_id: str) -> str:
    return f"wa:id:alias:{some_id}"


def _to(conv: str) -> str:
    return f"wa:id:to:{conv}"


def _name(conv: str) -> str:
    return f"wa:id:name:{conv}"


@dataclass(frozen=True)
class Recipient:
    wa_id: str | None
    user_id: str | None

    def fields(self) -> dict[str, str]:
        """The addressing part of a Cloud API send body."""
        if self.wa_id:
            return {"to": self.wa_id}
        if self.user_id:
            return {"recipient": self.user_id}
        raise LookupError("no WhatsApp id known for this conversation")

    @property
    def key(self) -> str:
        return self.wa_id or self.user_id or ""


class Identity:
    def __init__(self, redis_client: redis.Redis) -> None:
        self.redis = redis_client

    def lookup(self, *ids: str | None) -> str | None:
        """The conversation an id already belongs to, without recording anything."""
        for some_id in ids:
            if some_id:
                conv = self.redis.get(_alias(some_id))
                if conv:
                    return conv
        return None

    def resolve(self, sender: Sender) -> str:
        """The conversation id for this sender; records the ids and name it came with."""
        if not sender.key:
            raise ValueError("sender has neither wa_id nor user_id")
        conv = self.lookup(sender.wa_id, sender.user_id) or sender.key
        pipe = self.redis.pipeline(transaction=True)
        for some_id in (sender.wa_id, sender.user_id, conv):
            if some_id:
                # NX: the first conversation an id was seen in keeps it (concurrent first
                # messages agree, and a later unrelated mapping cannot steal it).
                pipe.set(_alias(some_id), conv, nx=True)
        address = {k: v for k, v in (("wa_id", sender.wa_id), ("user_id", sender.user_id)) if v}
        if address:
            pipe.hset(_to(conv), mapping=address)
        if sender.name:
            pipe.set(_name(conv), sender.name)
        pipe.execute()
        return conv

    def change_number(self, old: Sender, new_wa_id: str | None, new_user_id: str | None = None) -> str:
        """A `user_changed_number` system message: the conversation moves to the new ids."""
        conv = self.lookup(old.wa_id, old.user_id) or old.key
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(_alias(conv), conv, nx=True)
        for some_id in (old.wa_id, old.user_id):
            if some_id:
                pipe.set(_alias(some_id), conv, nx=True)
        for some_id in (new_wa_id, new_user_id):
            if some_id:
                pipe.set(_alias(some_id), conv)  # not NX: the new number now means this customer
        address = {k: v for k, v in (("wa_id", new_wa_id), ("user_id", new_user_id)) if v}
        if address:
            pipe.hset(_to(conv), mapping=address)
        pipe.execute()
        logger.info("conversation %s: customer changed number (now %s)", conv, new_wa_id or new_user_id)
        return conv

    def recipient(self, conv: str) -> Recipient:
        stored = self.redis.hgetall(_to(conv))
        if stored:
            return Recipient(stored.get("wa_id"), stored.get("user_id"))
        # Never seen (e.g. an agent writes first after a data wipe): the id itself is the address.
        if contacts.is_user_id(conv):
            return Recipient(None, conv)
        return Recipient(conv, None)

    def name(self, conv: str) -> str | None:
        return self.redis.get(_name(conv))
