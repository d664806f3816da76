"""Canned replies per language: agents insert one into the reply box and edit it; leads manage them."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

import redis

LANGUAGES = ("es", "en")
MAX_TITLE = 60
MAX_TEXT = 1000
SEED = {
    "es": [
        ("Saludo", "¡Hola! Soy {agent} de Calzado y Moda Alba. Con gusto te ayudo, ¿me compartes tu número de pedido?"),
        ("Revisando", "Gracias por esperar, estoy revisando tu caso y en un momento te confirmo."),
        ("Cambio de talla", "Puedes cambiar tu talla en cualquier sucursal dentro de los 30 días siguientes a tu compra, presentando tu ticket y el producto sin uso."),
        ("Despedida", "¿Hay algo más en lo que pueda ayudarte? ¡Que tengas excelente día!"),
    ],
    "en": [
        ("Greeting", "Hi! I'm {agent} from Calzado y Moda Alba. Happy to help. Could you share your order number?"),
        ("Checking", "Thanks for waiting, I'm looking into this and will get back to you in a moment."),
        ("Size exchange", "You can exchange your size at any store within 30 days of purchase with your receipt and the unworn item."),
        ("Goodbye", "Is there anything else I can help you with? Have a great day!"),
    ],
}


@dataclass(frozen=True)
class CannedReply:
    id: str
    language: str
    title: str
    text: str


class CannedReplies:
    def __init__(self, r: redis.Redis) -> None:
        self.redis = r

    @staticmethod
    def _key(language: str) -> str:
        return f"console:canned:{language}"

    def seed(self) -> None:
        # A marker key, so a lead who deletes every seeded reply does not get them back.
        if not self.redis.set("console:canned:seeded", "1", nx=True):
            return
        for language, items in SEED.items():
            for title, text in items:
                self.add(language, title, text)

    def add(self, language: str, title: str, text: str) -> CannedReply:
        title, text = title.strip(), text.strip()
        if language not in LANGUAGES:
            raise ValueError("Unknown language.")
        if not title or not text:
            raise ValueError("A canned reply needs a title and a text.")
        if len(title) > MAX_TITLE or len(text) > MAX_TEXT:
            raise ValueError(f"Titles are limited to {MAX_TITLE} characters and texts to {MAX_TEXT}.")
        reply = CannedReply(secrets.token_hex(4), language, title, text)
        self.redis.hset(self._key(language), reply.id, json.dumps({"title": title, "text": text}))
        return reply

    def delete(self, language: str, reply_id: str) -> bool:
        return bool(self.redis.hdel(self._key(language), reply_id))

    def for_language(self, language: str) -> list[CannedReply]:
        self.seed()
        items = [CannedReply(rid, language, **json.loads(raw))
                 for rid, raw in self.redis.hgetall(self._key(language)).items()]
        return sorted(items, key=lambda c: c.title.lower())

    def all(self) -> dict[str, list[CannedReply]]:
        return {language: self.for_language(language) for language in LANGUAGES}
