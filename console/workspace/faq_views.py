"""The leads' FAQ pages: the list, and one FAQ's editor with checks, drafts and conflict merging."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from bot.content.catalog import LANGUAGES, Button
from bot.content.faq_file import ABSENT, KEY
from bot.content.validate import faq_pick_payload
from bot.hours import BusinessHours
from bot.hours.source import HoursFile
from bot.hours.wording import answer_values

from .. import services
from ..auth.guard import lead_required
from .faq_editor import GENERAL, Outcome
from .faq_form import FaqForm
from .publish_views import unpublished_faqs
from .wa_preview import preview

logger = logging.getLogger(__name__)

bp = Blueprint("faqs", __name__, url_prefix="/faqs")

LANGUAGE_NAMES = {"es": "Español", "en": "English"}
# Follow-up targets besides the FAQs; their intents are defined in domain.yml.
OTHER_TARGETS = (("/human_handoff", "Talk to a person"), ("/main_menu", "Main menu"))
STATUS_CODES = {"draft": 422, "refused": 422, "conflict": 409}
STATS_PERIOD = timedelta(days=7)


def editor():
    return services.current().faqs


def known_key(key: str) -> str:
    if not KEY.match(key) or key not in editor().keys():
        abort(404)
    return key


def targets(form: FaqForm) -> list[tuple[str, str]]:
    """What a follow-up button can lead to, keeping any payload already in the file."""
    options = [(faq_pick_payload(k), f"FAQ: {k}") for k in editor().keys() if k != form.key]
    options += list(OTHER_TARGETS)
    known = {payload for payload, _ in options}
    options += [(b.payload, b.payload) for rows in form.buttons.values() for b in rows if b.payload not in known]
    return options


def as_sent(text: str, language: str) -> str:
    """The answer with what the bot fills in when it sends it (today: the hours from hours.yml,
    `{hours_week}` and `{hours_special}`), so the preview is what the customer gets."""
    if "{hours_" not in text:
        return text
    for name, value in answer_values(current_hours(), services.current().clock.now(), language).items():
        text = text.replace("{" + name + "}", value)
    return text


def current_hours() -> BusinessHours:
    """The schedule the bot reads now: the console's hours file, as saved."""
    path = services.current().hours.path
    return _HOURS_FILES.setdefault(path, HoursFile(path)).current()


# One live reader per hours file (it re-reads the file only when it changes).
_HOURS_FILES: dict = {}


def render_edit(form: FaqForm, outcome: Outcome | None = None, is_new: bool = False, status: int = 200):
    previews = {lang: preview(as_sent(form.answers.get(lang, ""), lang), form.buttons.get(lang, []), lang)
                for lang in LANGUAGES}
    theirs = outcome.theirs if outcome else None
    return render_template(
        "faq_edit.html", form=form, outcome=outcome, problems=(outcome.problems if outcome else {}),
        general=(outcome.problems.get(GENERAL, []) if outcome else []), languages=LANGUAGES,
        language_names=LANGUAGE_NAMES, previews=previews, targets=targets(form), is_new=is_new,
        theirs=theirs, their_previews={lang: preview(theirs.answers.get(lang, ""), theirs.buttons.get(lang, []), lang)
                                       for lang in LANGUAGES} if theirs else {},
        changed=form.differs(theirs) if theirs else set(),
        edited=None if is_new else editor().last_edited(form.key),
    ), status


def respond(outcome: Outcome, done: str, then: str, is_new: bool = False):
    """Written: say so and go on (303); otherwise the form again, with its problems or both versions."""
    if outcome.status == "written":
        flash(done, "success")
        return redirect(then, 303)
    return render_edit(outcome.form, outcome, is_new=is_new, status=STATUS_CODES[outcome.status])


@bp.route("/")
@login_required
@lead_required
def index():
    query, topic = request.args.get("q", ""), request.args.get("topic", "")
    return render_template("faq_list.html", faqs=editor().summaries(query, topic), topics=editor().topics(),
                           query=query, topic=topic, languages=LANGUAGES,
                           new_drafts=editor().new_drafts(current_user.name), stats=_week_stats(),
                           unpublished=unpublished_faqs())


def _week_stats() -> dict[str, tuple[int, float]] | None:
    """FAQ key → (answers in the last 7 days, share that ended with a person), from the event
    store; None when the store cannot be read (the list still works, the figures say so)."""
    svc = services.current()
    try:
        return svc.insights.faq_stats(svc.clock.now() - STATS_PERIOD)
    except SQLAlchemyError as exc:
        logger.warning("FAQ list without usage figures: the event store is unreadable (%s)", exc)
        return None


@bp.route("/new", methods=["GET", "POST"])
@login_required
@lead_required
def new():
    if request.method == "GET":
        key = request.args.get("key", "")
        draft = editor().draft(key, current_user.name) if KEY.match(key) else None
        if draft:
            return render_edit(draft.form, draft, is_new=True)[0]
        return render_edit(FaqForm(key="", version=ABSENT), is_new=True)[0]
    key = request.form.get("key", "").strip()
    form = FaqForm.parse(key, request.form)
    form.version = ABSENT
    if not KEY.match(key):
        outcome = Outcome("refused", form, {"key": ["use lowercase letters, digits and _ (at most 64), starting with a letter or digit"]})
        return render_edit(form, outcome, is_new=True, status=422)
    outcome = editor().save(form, current_user.name)
    return respond(outcome, f"FAQ {key} created.", url_for("faqs.edit", key=key), is_new=outcome.status != "conflict")


@bp.route("/<key>")
@login_required
@lead_required
def edit(key: str):
    known_key(key)
    draft = editor().draft(key, current_user.name)
    if draft:
        return render_edit(draft.form, draft)[0]
    return render_edit(editor().load(key))[0]


@bp.route("/<key>", methods=["POST"])
@login_required
@lead_required
def save(key: str):
    known_key(key)
    form = FaqForm.parse(key, request.form)
    if request.form.get("action") == "preview":
        return render_edit(form)[0]
    outcome = editor().save(form, current_user.name)
    return respond(outcome, f"Saved to data/faq/{key}.yml. Publish to make it live.", url_for("faqs.edit", key=key))


@bp.route("/<key>/discard", methods=["POST"])
@login_required
@lead_required
def discard(key: str):
    editor().discard_draft(known_key(key), current_user.name)
    flash("Draft discarded.", "info")
    return redirect(url_for("faqs.edit", key=key), 303)


@bp.route("/<key>/rename", methods=["POST"])
@login_required
@lead_required
def rename(key: str):
    known_key(key)
    new_key = request.form.get("new_key", "").strip()
    outcome = editor().rename(key, new_key, request.form.get("version", ""), current_user.name)
    return respond(outcome, f"Renamed {key} to {new_key}.", url_for("faqs.edit", key=new_key))


@bp.route("/<key>/delete", methods=["POST"])
@login_required
@lead_required
def delete(key: str):
    known_key(key)
    outcome = editor().delete(key, request.form.get("version", ""))
    return respond(outcome, f"FAQ {key} deleted.", url_for("faqs.index"))


@bp.route("/preview", methods=["POST"])
@login_required
@lead_required
def preview_fragment():
    """The bubble for one language, re-rendered as the lead types (console/static/faq_editor.js)."""
    language = request.form.get("language", "")
    if language not in LANGUAGES:
        abort(400)
    titles = request.form.getlist("title")
    shown = preview(as_sent(request.form.get("answer", ""), language),
                    [Button(t.strip(), "") for t in titles if t.strip()], language)
    return render_template("_wa_preview.html", p=shown)
