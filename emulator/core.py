"""The emulated WhatsApp side: customers, messages, statuses, the 24 h window, media and faults."""
from __future__ import annotations

import re
import threading
import time
from typing import Any

from . import customer_actions, media, rules
from .dispatch import Scheduler, WebhookSender
from .errors import ApiError, CODE_FOR_HTTP, bad_param, invalid, status_error
from .ids import EmulatorClock, new_wamid, user_id_for
from .payloads import PREFERENCE_DETAILS, WINDOW_SECONDS, envelope, preference_payload, status_payload
from .settings import Settings
from .state import StateStore, restore, snapshot
from .templates import TemplateStore, render

TYPING_SECONDS = 25  # Meta drops the typing indicator after 25 s or at the next message
STATUS_ORDER = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3}


class Emulator:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = EmulatorClock()
        self.lock = threading.RLock()
        self.scheduler = Scheduler(settings.webhook_workers)
        self.webhook_log: list[dict] = []
        self.webhooks = WebhookSender(
            self.scheduler, settings.webhook_url, settings.app_secret,
            attempts=settings.webhook_attempts, backoff=settings.webhook_backoff,
            timeout=settings.webhook_timeout, on_result=self._log_webhook)
        self.templates = TemplateStore(settings.templates_file)
        self._reset_state()
        self.store = StateStore(settings.state_dir) if settings.state_dir else None
        if self.store is not None:
            restore(self, self.store)

    # ------------------------------------------------------------------ state
    def _reset_state(self) -> None:
        self.customers: dict[str, dict] = {}
        self.messages: list[dict] = []
        self.by_id: dict[str, dict] = {}
        self.media: dict[str, dict] = {}
        self.faults: list[dict] = []
        self.profile: dict = {}  # the business profile (profile.py)
        self.rev = 0

    def reset(self) -> None:
        with self.lock:
            self.scheduler.clear()
            self._reset_state()
            self.templates.reload()
            self.webhook_log.clear()
            self.clock.offset = 0.0
            if self.store is not None:
                self.store.forget_media()
            self._touch()

    def close(self) -> None:
        self.scheduler.stop()
        self.webhooks.close()

    def _log_webhook(self, record: dict) -> None:
        with self.lock:
            self.webhook_log.append(record)
            del self.webhook_log[:-500]

    def _touch(self) -> None:
        self.rev += 1
        if self.store is not None:
            self.store.save(snapshot(self))

    def customer(self, wa_id: str, name: str | None = None) -> dict:
        with self.lock:
            c = self.customers.get(wa_id)
            if c is None:
                c = self.customers[wa_id] = {"wa_id": wa_id, "user_id": user_id_for(wa_id),
                                             "name": name or f"Cliente {wa_id[-4:]}", "last_inbound": None,
                                             "typing_until": 0.0}
                self._touch()
            elif name and name != c["name"]:
                c["name"] = name
                self._touch()
            return c

    def window(self, wa_id: str) -> dict:
        c = self.customers.get(wa_id)
        last = c and c["last_inbound"]
        now = self.clock.now()
        return {"open": bool(last and now - last <= WINDOW_SECONDS),
                "last_inbound": int(last) if last else None,
                "closes_at": int(last + WINDOW_SECONDS) if last else None}

    # ----------------------------------------------------------------- faults
    def add_faults(self, specs: list[dict]) -> None:
        cleaned = []
        for spec in specs:
            if not isinstance(spec, dict):
                raise ValueError("each fault must be an object")
            unknown = set(spec) - {"http", "code", "subcode", "message", "details", "delay_ms",
                                   "async", "times", "to", "applies_to", "retry_after"}
            if unknown:
                raise ValueError(f"unknown fault fields: {sorted(unknown)}")
            if spec.get("applies_to", "messages") not in ("messages", "receipts", "all"):
                raise ValueError("applies_to must be messages, receipts or all")
            cleaned.extend(dict(spec) for _ in range(int(spec.get("times", 1))))
        with self.lock:
            self.faults.extend(cleaned)

    def take_fault(self, is_receipt: bool, to: str | None) -> dict | None:
        with self.lock:
            for i, fault in enumerate(self.faults):
                applies = fault.get("applies_to", "messages")
                if applies != "all" and (applies == "receipts") != is_receipt:
                    continue
                if fault.get("to") and to is not None and re.sub(r"\D", "", fault["to"]) != to:
                    continue
                if fault.get("to") and to is None:
                    continue
                return self.faults.pop(i)
        return None

    @staticmethod
    def fault_error(fault: dict) -> ApiError | None:
        """The synchronous error a fault produces; None when it only delays or fails later."""
        if fault.get("async") or ("http" not in fault and "code" not in fault):
            return None
        http = fault.get("http")
        code = fault.get("code") or CODE_FOR_HTTP.get(http, 131000)
        error = ApiError(int(code), fault.get("details"), http=http, message=fault.get("message"),
                         subcode=fault.get("subcode"))
        if fault.get("retry_after") is not None:
            error.headers["Retry-After"] = str(fault["retry_after"])
        return error

    # ------------------------------------------------------------ business API
    def accept(self, body: dict, checked: dict, fault: dict | None) -> dict:
        """Store a validated business send and schedule what Meta would do next."""
        now = self.clock.now()
        with self.lock:
            failure: dict | None = None
            if "to" in checked:
                wa_id = checked["to"]
                customer = self.customer(wa_id)
            else:
                customer = next((c for c in self.customers.values()
                                 if c["user_id"] == checked["user_id"]), None)
                wa_id = customer["wa_id"] if customer else None
                if customer is None:
                    failure = status_error(131026, "The recipient user_id is not a known WhatsApp user.")
            key = wa_id or checked["user_id"]
            template = checked.get("template")
            if failure is None and fault and fault.get("async"):
                code = int(fault.get("code", 131000))
                failure = status_error(code, fault.get("details"), fault.get("message"))
            if failure is None and template is None and not self.window(wa_id)["open"]:
                failure = status_error(131047)
            msg = {
                "id": new_wamid(wa_id or checked["user_id"]), "direction": "out", "wa_id": wa_id,
                "user_id": checked.get("user_id"), "type": checked["type"], "timestamp": int(now),
                "status": "accepted", "statuses": [], "errors": [], "body": body, "reaction": None,
                "category": template["category"].lower() if template else "service",
                "failing": failure is not None,
            }
            if template:
                msg["rendered"] = render(template, body["template"].get("components"))
            if msg["type"] == "reaction":
                target = self.by_id.get(body["reaction"]["message_id"])
                if target is not None and failure is None:
                    target["business_reaction"] = body["reaction"].get("emoji") or None
            self.messages.append(msg)
            self.by_id[msg["id"]] = msg
            if customer is not None:
                # The business answering means it saw everything the customer sent before.
                self._mark_inbound_read(customer["wa_id"], upto=None)
                customer["typing_until"] = 0.0
            self._touch()

        if failure is not None:
            def fail() -> None:
                with self.lock:
                    if self.by_id.get(msg["id"]) is not msg:
                        return  # forgotten by a reset
                    msg["status"] = "failed"
                    msg["errors"] = [failure]
                    msg["statuses"].append({"status": "failed", "timestamp": int(self.clock.now())})
                    self._touch()
                    self.webhooks.send(status_payload(self.settings, msg, "failed", self.clock.now(), self._closes_at(msg)), key)
            self.scheduler.schedule(self.settings.sent_delay, lambda: fail(), key=None)
        else:
            s = self.settings
            self.scheduler.schedule(s.sent_delay, lambda: self.advance(msg, "sent"))
            self.scheduler.schedule(max(s.delivered_delay, s.sent_delay),
                                    lambda: self.advance(msg, "delivered"))
            if s.auto_read_delay >= 0:
                self.scheduler.schedule(max(s.auto_read_delay, s.delivered_delay),
                                        lambda: self.advance(msg, "read"))

        contact = {"input": checked["input"]}
        if wa_id:
            contact["wa_id"] = wa_id
        if checked.get("user_id"):
            contact["user_id"] = checked["user_id"]
        sent: dict[str, Any] = {"id": msg["id"]}
        if template:
            sent["message_status"] = "accepted"
        return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [sent]}

    def advance(self, msg: dict, target: str) -> None:
        """Move an outbound message forward (sent → delivered → read), one webhook per step."""
        with self.lock:
            # A message that is going to fail never shows progress, even if the page saw it early.
            if msg["status"] == "failed" or msg.get("failing") or self.by_id.get(msg["id"]) is not msg:
                return None
            for status in ("sent", "delivered", "read"):
                if STATUS_ORDER[msg["status"]] < STATUS_ORDER[status] <= STATUS_ORDER[target]:
                    msg["status"] = status
                    msg["statuses"].append({"status": status, "timestamp": int(self.clock.now())})
                    self.webhooks.send(status_payload(self.settings, msg, status, self.clock.now(), self._closes_at(msg)), msg["wa_id"])
            self._touch()
        return None

    def receipt(self, message_id: str, typing: bool) -> dict:
        with self.lock:
            msg = self.by_id.get(message_id)
            if msg is None or msg["direction"] != "in":
                raise bad_param(f"Invalid parameter: message_id {message_id} is not a message "
                                "received by this phone number.")
            self._mark_inbound_read(msg["wa_id"], upto=msg)
            if typing:
                self.customers[msg["wa_id"]]["typing_until"] = time.monotonic() + TYPING_SECONDS
            self._touch()
        return {"success": True}

    def _mark_inbound_read(self, wa_id: str, upto: dict | None) -> None:
        # Like WhatsApp, reading one message marks everything before it as read too.
        for m in self.messages:
            if m["direction"] == "in" and m["wa_id"] == wa_id and m["status"] != "read":
                m["status"] = "read"
                m["statuses"].append({"status": "read", "timestamp": int(self.clock.now())})
            if m is upto:
                break

    def seen(self, wa_id: str, ids: list[str]) -> int:
        """The chat page displayed these business messages: they become read."""
        count = 0
        for mid in ids:
            msg = self.by_id.get(mid)
            if msg and msg["direction"] == "out" and msg["wa_id"] == wa_id and msg["status"] != "read":
                self.advance(msg, "read")
                count += 1
        return count

    # -------------------------------------------------------------- customers
    def customer_sends(self, wa_id: str, action: dict) -> dict:
        """A person on the chat page (or a test) does something; it becomes an inbound webhook."""
        wa_id = rules.normalize_phone(wa_id)
        name = action.get("name")
        kind = action.get("type")
        now = self.clock.now()
        with self.lock:
            customer = self.customer(wa_id, name if isinstance(name, str) and name.strip() else None)
            message: dict[str, Any] = {"from": wa_id, "id": new_wamid(wa_id),
                                       "timestamp": str(int(now))}
            context_id = None
            if kind == "text":
                text = action.get("text")
                if not isinstance(text, str) or not text.strip():
                    raise invalid("text must be a non-empty string")
                message.update(type="text", text={"body": text})
            elif kind in ("button_reply", "list_reply", "button"):
                target = self._business_message(action.get("message_id"), wa_id)
                context_id = target["id"]
                message["context"] = {"from": self.settings.display_phone_number, "id": target["id"]}
                if kind == "button":
                    buttons = (target.get("rendered") or {}).get("buttons") or []
                    index = action.get("index")
                    if not isinstance(index, int) or not 0 <= index < len(buttons):
                        raise invalid("index does not match a quick-reply button of that template")
                    message.update(type="button", button={"payload": buttons[index]["payload"],
                                                          "text": buttons[index]["text"]})
                else:
                    reply = self._find_choice(target, kind, action.get("id"))
                    message.update(type="interactive", interactive={"type": kind, kind: reply})
            elif kind == "location":
                # Nested like Meta's message, so its `name` can't clash with the profile name.
                given = action.get("location") if isinstance(action.get("location"), dict) else {}
                loc: dict[str, Any] = {}
                if given.get("address"):
                    loc["address"] = str(given["address"])
                try:
                    loc["latitude"] = float(given["latitude"])
                    loc["longitude"] = float(given["longitude"])
                except (KeyError, TypeError, ValueError):
                    raise invalid("location.latitude and location.longitude must be numbers") from None
                for key in ("name", "url"):
                    if given.get(key):
                        loc[key] = str(given[key])
                message.update(location=loc, type="location")
            elif kind in media.MEDIA_KINDS:
                message.update(type=kind, **{kind: media.inbound(self, kind, action)})
            elif kind == "reaction":
                target = self._business_message(action.get("message_id"), wa_id)
                emoji = action.get("emoji") or ""
                target["reaction"] = emoji or None
                message.update(type="reaction", reaction={"message_id": target["id"], "emoji": emoji})
            elif kind in customer_actions.KINDS:
                message.update(customer_actions.content(
                    kind, action, lambda message_id: self._customer_message(message_id, wa_id)))
            else:
                raise invalid(f"unsupported customer action type {kind!r}")

            customer["last_inbound"] = now
            record = {"id": message["id"], "direction": "in", "wa_id": wa_id, "type": message["type"],
                      "timestamp": int(now), "status": "sent", "statuses": [{"status": "sent",
                      "timestamp": int(now)}], "errors": [], "body": message, "context": context_id}
            self.messages.append(record)
            self.by_id[record["id"]] = record
            self._touch()
            payload = envelope(self.settings, {"contacts": [{"profile": {"name": customer["name"]},
                                                    "wa_id": wa_id}],
                                      "messages": [message]})

        def delivered() -> None:
            with self.lock:
                if record["status"] == "sent":
                    record["status"] = "delivered"
                    record["statuses"].append({"status": "delivered",
                                               "timestamp": int(self.clock.now())})
                    self._touch()

        self.webhooks.send(payload, wa_id, on_delivered=delivered)
        return {"id": record["id"], "webhook": payload}

    def customer_preference(self, wa_id: str, value: Any) -> dict:
        """The customer stops or resumes the business's marketing messages from WhatsApp's
        settings: no chat message, only the user_preferences webhook."""
        if value not in PREFERENCE_DETAILS:
            raise invalid(f"value must be one of {', '.join(PREFERENCE_DETAILS)}")
        with self.lock:
            customer = self.customer(rules.normalize_phone(wa_id))
            payload = preference_payload(self.settings, customer, value, self.clock.now())
        self.webhooks.send(payload, customer["wa_id"])
        return {"webhook": payload}

    def _customer_message(self, message_id: Any, wa_id: str) -> dict:
        target = self.by_id.get(message_id) if isinstance(message_id, str) else None
        if target is None or target["direction"] != "in" or target["wa_id"] != wa_id:
            raise invalid("message_id must be a message this customer sent")
        return target

    def _business_message(self, message_id: Any, wa_id: str) -> dict:
        target = self.by_id.get(message_id) if isinstance(message_id, str) else None
        if target is None or target["direction"] != "out" or target["wa_id"] != wa_id:
            raise invalid("message_id must be a message the business sent to this customer")
        return target

    @staticmethod
    def _find_choice(target: dict, kind: str, choice_id: Any) -> dict:
        inter = target["body"].get("interactive") or {}
        action = inter.get("action") or {}
        if kind == "button_reply" and inter.get("type") == "button":
            for b in action.get("buttons", []):
                if b["reply"]["id"] == choice_id:
                    return {"id": b["reply"]["id"], "title": b["reply"]["title"]}
        if kind == "list_reply" and inter.get("type") == "list":
            for section in action.get("sections", []):
                for row in section.get("rows", []):
                    if row["id"] == choice_id:
                        reply = {"id": row["id"], "title": row["title"]}
                        if row.get("description"):
                            reply["description"] = row["description"]
                        return reply
        raise invalid(f"{choice_id!r} is not a {kind.replace('_reply', '')} option of that message")

    def _closes_at(self, msg: dict) -> float | None:
        return self.window(msg["wa_id"])["closes_at"] if msg["wa_id"] else None

    # ------------------------------------------------------------------- views
    def list_messages(self, to: str | None = None, from_: str | None = None,
                      direction: str | None = None) -> list[dict]:
        with self.lock:
            out = []
            for m in self.messages:
                if direction and m["direction"] != direction:
                    continue
                if to and not (m["direction"] == "out" and to in (m["wa_id"], m.get("user_id"))):
                    continue
                if from_ and not (m["direction"] == "in" and m["wa_id"] == from_):
                    continue
                out.append(self.view(m))
            return out

    @staticmethod
    def view(m: dict) -> dict:
        v = {k: val for k, val in m.items()}
        if m["direction"] == "out":
            v["to"] = m["wa_id"] or m["user_id"]
        else:
            v["from"] = m["wa_id"]
        if m["errors"]:
            v["error_title"] = m["errors"][0].get("title")
        return v

    def chat_state(self, wa_id: str) -> dict:
        with self.lock:
            c = self.customers.get(wa_id)
            return {
                "rev": self.rev,
                "customer": None if c is None else {
                    "wa_id": c["wa_id"], "name": c["name"], "user_id": c["user_id"],
                    "window": self.window(wa_id)},
                "typing": bool(c and c["typing_until"] > time.monotonic()),
                "messages": [self.view(m) for m in self.messages if m["wa_id"] == wa_id],
            }

