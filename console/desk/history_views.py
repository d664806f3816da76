"""Past conversations: the search, a customer's conversations, one read-only, and reopening.

Read from the event store through bot/insights/search.py (what a conversation is is decided
there). Every signed-in user sees every customer's past conversations, as they can already read
any live chat: the agent who finds last week's conversation is often not the one who had it.
Acting stays as it is: reopening follows Handoff.reopen's rule (the agent it was resolved from,
or a lead), then the conversation page applies the 24 h window (composer or templates).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from bot.insights.search import PastConversation, Query

from .. import services
from ..formatting import display_timezone
from .chats import ASSIGNED, QUEUED, DeskError, DeskForbidden
from .customer import mask_number
from .history import Message, messages_from_tracker
from .labels import Label
from .rasa_client import RasaError

log = logging.getLogger(__name__)
bp = Blueprint("history", __name__, url_prefix="/history")

MAX_FIELD = 200
NO_NAME = "(no profile name)"


@dataclass
class Row:
    """A past conversation as a list shows it."""
    conversation: PastConversation
    name: str
    number: str
    started: datetime
    ended: datetime
    handled_by: list[str]
    labels: list[Label]
    first: Message | None


@dataclass
class Result:
    row: Row
    message: Message


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _shown(event: dict | None) -> Message | None:
    """An event as the history shows it (history.py is the one renderer)."""
    if event is None:
        return None
    shown = messages_from_tracker({"events": [event]}, services.current().templates.text_of)
    return shown[0] if shown else None


class _Customers:
    """Per request: each customer's handoff record and labelled episodes, read once."""

    def __init__(self) -> None:
        self.svc = services.current()
        self._chats: dict = {}

    def chat(self, sender: str):
        if sender not in self._chats:
            chat = self.svc.desk.chat(sender)
            self._chats[sender] = (chat, self.svc.labels.episodes(chat))
        return self._chats[sender]

    def row(self, c: PastConversation) -> Row:
        chat, episodes = self.chat(c.sender)
        return Row(c, c.name or chat.name or NO_NAME, mask_number(c.sender), _when(c.started_at),
                   _when(c.ended_at), c.agents or ["assistant"],
                   self.svc.labels.of_conversation(episodes, c.started_at, c.ended_at, c.handoff),
                   _shown(c.first_customer))


def _text_arg(name: str) -> str:
    return (request.args.get(name) or "").strip()[:MAX_FIELD]


def _day(name: str) -> date | None:
    value = _text_arg(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        abort(400, description="Dates are written YYYY-MM-DD.")


def _query(label: Label | None) -> Query:
    zone = display_timezone(current_app.config.get("DISPLAY_TIMEZONE"))
    first, last = _day("from"), _day("to")

    def midnight(day: date) -> float:
        return datetime.combine(day, datetime.min.time(), zone).timestamp()

    return Query(
        text=_text_arg("q"), number=_text_arg("number"), name=_text_arg("name"),
        since=midnight(first) if first else None,
        until=midnight(last + timedelta(days=1)) if last else None,
        within=services.current().labels.ranges(label.id) if label else None,
    )


@bp.route("")
@login_required
def search():
    svc = services.current()
    label = svc.labels.get(_text_arg("label")) if _text_arg("label") else None
    if _text_arg("label") and label is None:
        abort(404)
    query = _query(label)
    asked = any((query.text, query.number, query.name, query.since, query.until, label))
    before = request.args.get("before", type=int)
    page, customers, results = None, [], []
    if asked:
        page = svc.insights.search.search(query, before=before)
        customers = svc.insights.search.customers(query)
        people = _Customers()
        for hit in page.hits:
            row = people.row(hit.conversation)
            # The label's time ranges are wide enough for the messages that led to the
            # handoff; a conversation that does not carry the label is not a match.
            if label and label not in row.labels:
                continue
            message = _shown(hit.event)
            if message is not None:
                results.append(Result(row, message))
    return render_template("history/search.html", asked=asked, page=page, results=results,
                           customers=customers, labels=svc.labels.all(), label=label,
                           args=request.args, mask=mask_number, no_name=NO_NAME)


@bp.route("/customer/<conv:conversation_id>")
@login_required
def customer(conversation_id: str):
    svc = services.current()
    people = _Customers()
    rows = [people.row(c) for c in svc.insights.search.conversations(conversation_id)]
    chat, _ = people.chat(conversation_id)
    name = next((r.name for r in rows if r.name != NO_NAME), chat.name or NO_NAME)
    return render_template("history/customer.html", rows=rows, chat=chat, name=name,
                           number=mask_number(conversation_id))


@bp.route("/<conv:conversation_id>/<int:start>")
@login_required
def conversation(conversation_id: str, start: int):
    svc = services.current()
    found = svc.insights.search.conversation(conversation_id, start)
    if found is None:
        abort(404)
    past, events = found
    row = _Customers().row(past)
    chat = svc.desk.chat(conversation_id)
    messages = messages_from_tracker({"events": events}, svc.templates.text_of)
    return render_template("history/conversation.html", row=row, chat=chat, messages=messages,
                           history_error=None)


@bp.route("/<conv:conversation_id>/reopen", methods=["POST"])
@login_required
def reopen(conversation_id: str):
    svc = services.current()
    back = request.form.get("back") or url_for("history.customer", conversation_id=conversation_id)
    if not back.startswith("/history/"):
        back = url_for("history.customer", conversation_id=conversation_id)
    try:
        svc.desk.reopen(conversation_id, current_user.name, is_lead=current_user.is_lead)
    except DeskForbidden as exc:
        abort(403, description=f"This chat was resolved from {exc.__cause__.owner}; only that agent "
                               "or a lead can reopen it.")
    except DeskError as exc:
        # Handoff's own words name the customer's number; the page says it without it.
        state = getattr(exc.__cause__, "state", "")
        flash("Could not reopen: " + (f"the chat is already {state}." if state in (QUEUED, ASSIGNED)
                                      else "it was never resolved by an agent."), "error")
        return redirect(back, 303)
    try:
        # The bot must be silent while a person has the chat; the connector pauses it too
        # before the customer's next message reaches Rasa (RasaTrackers.follow_handoff).
        svc.rasa.append_events(conversation_id, [{"event": "pause"}], send=False)
    except RasaError as exc:
        log.warning("reopened %s but could not pause the bot now: %s", conversation_id, exc)
    flash("Reopened: the chat is yours again.", "success")
    return redirect(url_for("conversation.view", conversation_id=conversation_id), 303)
