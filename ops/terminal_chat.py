"""`make chat`: talk to the running assistant from a terminal, through Rasa's REST channel.

Buttons are numbered; type the number to tap one. Needs `make run` in another terminal.
"""
from __future__ import annotations

import os
import sys
import uuid

import httpx


def _show(messages: list[dict]) -> list[str]:
    payloads: list[str] = []
    for message in messages:
        if message.get("text"):
            print(f"bot> {message['text']}")
        if message.get("image"):
            print(f"bot> [image] {message['image']}")
        for button in message.get("buttons", []):
            payloads.append(button["payload"])
            print(f"     [{len(payloads)}] {button['title']}")
    return payloads


def main() -> int:
    url = os.environ.get("RASA_URL", "http://127.0.0.1:5005") + "/webhooks/rest/webhook"
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    print(f"Chatting as {sender}. Empty line or Ctrl-D to quit.")
    payloads: list[str] = []
    with httpx.Client(timeout=30) as client:
        while True:
            try:
                text = input("you> ").strip()
            except EOFError:
                return 0
            if not text:
                return 0
            if text.isdigit() and 0 < int(text) <= len(payloads):
                text = payloads[int(text) - 1]
            try:
                reply = client.post(url, json={"sender": sender, "message": text})
                reply.raise_for_status()
            except httpx.HTTPError as error:
                print(f"(could not reach Rasa at {url}: {error}; is `make run` running?)", file=sys.stderr)
                continue
            payloads = _show(reply.json())


if __name__ == "__main__":
    sys.exit(main())
