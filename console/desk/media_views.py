"""Files in a conversation: the proxy that shows customers' and agents' media to the agents who
may see the chat, and the composer's attachment (upload to the Cloud API, then send by id).

The proxy answers only for a media id that is in this conversation's history (an agent cannot
fetch arbitrary ids) and only to whom permissions.can_view_media allows. What it serves is never
active content: only WhatsApp's image, sticker, audio and video types are shown inline; every
other file (a document, or whatever type a customer's file claims, such as text/html or
image/svg+xml) is a download, with nosniff and a sandboxing CSP on every answer.
"""
from __future__ import annotations

import mimetypes

from flask import Blueprint, abort, g, jsonify, request, send_file, url_for
from flask_login import current_user, login_required

from connector.cloudapi import limits

from .. import services
from . import window
from .conversation_views import _done, _fail
from .history import MediaRef, messages_from_tracker
from .media_fetch import MediaUnavailable
from .permissions import can_view_media, require_can_act
from .rasa_client import RasaError

bp = Blueprint("media", __name__, url_prefix="/c")

INLINE_KINDS = ("image", "sticker", "audio", "video")
INLINE_TYPES = frozenset(m for kind in INLINE_KINDS for m in limits.MEDIA_TYPES[kind])
SANDBOX = "default-src 'none'; sandbox"
LARGEST = max(max(t.values()) for t in limits.MEDIA_TYPES.values())
# The largest file WhatsApp takes, plus room for the form around it: a bigger request is
# refused before it is read.
MAX_REQUEST_BYTES = LARGEST + 64 * 1024
ACCEPT = ",".join(sorted(m for types in limits.MEDIA_TYPES.values() for m in types))


def _base(mime_type: str | None) -> str:
    return (mime_type or "").split(";")[0].strip().lower()


def _in_history(conversation_id: str, media_id: str) -> MediaRef:
    svc = services.current()
    chat = svc.desk.chat(conversation_id)
    if not can_view_media(current_user, chat, lambda: svc.desk.has_held(conversation_id, current_user.name)):
        abort(403, description="Only leads, the agent who holds this chat, any agent while it waits "
                               "in the queue, and agents who held it before can open its files.")
    try:
        tracker = svc.rasa.tracker(conversation_id)
    except RasaError as exc:
        raise MediaUnavailable(502, f"Could not check the conversation: {exc}") from None
    for message in messages_from_tracker(tracker):
        if message.media is not None and message.media.id == media_id:
            return message.media
    abort(404)


@bp.errorhandler(MediaUnavailable)
def unavailable(exc: MediaUnavailable):
    # The bubble asks the info URL why a file did not load and shows this sentence.
    return jsonify(ok=False, error=exc.message), exc.status


@bp.route("/<conv:conversation_id>/media/<media_id>")
@login_required
def file(conversation_id: str, media_id: str):
    ref = _in_history(conversation_id, media_id)
    cached = services.current().media.open(media_id, ref.filename)
    mime = _base(cached.mime_type)
    inline = mime in INLINE_TYPES and ref.kind in INLINE_KINDS
    response = send_file(cached.path, mimetype=mime if inline else _download_type(mime),
                         as_attachment=not inline,
                         download_name=None if inline else _download_name(ref, mime),
                         conditional=True, max_age=3600)
    response.headers["Content-Security-Policy"] = SANDBOX
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/<conv:conversation_id>/media/<media_id>/info")
@login_required
def info(conversation_id: str, media_id: str):
    """Type and size for the bubble (a document's size), or why the file cannot be shown."""
    _in_history(conversation_id, media_id)
    mime, size = services.current().media.describe(media_id)
    return jsonify(ok=True, mime_type=_base(mime), file_size=size)


def _download_type(mime: str) -> str:
    # A document keeps its type (the browser picks an app for it); anything a browser could run
    # or render as a page is just bytes.
    documents = limits.MEDIA_TYPES["document"]
    return mime if mime in documents and mime != "text/html" else "application/octet-stream"


def _download_name(ref: MediaRef, mime: str) -> str:
    if ref.filename:
        return ref.filename
    extension = mimetypes.guess_extension(mime) or ""
    return f"{ref.kind}-{ref.id}{extension}"


@bp.route("/<conv:conversation_id>/attach", methods=["POST"])
@login_required
def attach(conversation_id: str):
    svc = services.current()
    require_can_act(svc.desk.chat(conversation_id))
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        return _fail(conversation_id, 413, "Not sent: the file is larger than WhatsApp takes "
                                           f"(at most {LARGEST // limits.MB} MB, for documents).")
    upload = request.files.get("file")
    caption = request.form.get("caption", "").strip()
    if upload is None or not upload.filename:
        return _fail(conversation_id, 400, "Choose a file to attach.")
    if not window.status(conversation_id).open:
        return _fail(conversation_id, 409,
                     "The 24-hour customer service window is closed, so WhatsApp does not allow "
                     "files. Send an approved template instead; nothing was uploaded.")
    data = upload.read()
    mime = _base(upload.mimetype)
    if mime in ("", "application/octet-stream"):
        mime = _base(mimetypes.guess_type(upload.filename)[0])
    problems = limits.check_file(mime, data, caption or None)
    if problems:
        return _fail(conversation_id, 400, "Not sent (nothing was uploaded): " + "; ".join(problems) + ".")
    kind = limits.media_kind(mime)
    try:
        media_id = svc.media.upload(data, mime, upload.filename)
    except MediaUnavailable as exc:
        return _fail(conversation_id, exc.status, exc.message)
    try:
        svc.rasa.send_media(conversation_id, current_user.name, kind, media_id, mime_type=mime,
                            file_size=len(data), filename=upload.filename, caption=caption or None)
    except RasaError as exc:
        return _fail(conversation_id, 502, f"The file was uploaded but not sent: {exc}")
    return _done(conversation_id, f"{upload.filename} sent.")


@bp.app_context_processor
def media_helpers():
    def media_url(ref: MediaRef, suffix: str = "") -> str | None:
        """The proxy URL of a file in the open conversation; None when this user may not open it
        (or the page is not a conversation's)."""
        conversation_id = (request.view_args or {}).get("conversation_id")
        if not conversation_id or not current_user.is_authenticated:
            return None
        if "media_viewable" not in g:  # once per page, however many files it shows
            desk = services.current().desk
            g.media_viewable = can_view_media(current_user, desk.chat(conversation_id),
                                              lambda: desk.has_held(conversation_id, current_user.name))
        if not g.media_viewable:
            return None
        return url_for("media.info" if suffix == "info" else "media.file",
                       conversation_id=conversation_id, media_id=ref.id)

    return {"media_url": media_url, "media_accept": ACCEPT,
            "media_caption_max": limits.CAPTION_MAX, "media_sticker_animated_max": limits.ANIMATED_STICKER_MAX,
            "media_limits": {m: size for types in limits.MEDIA_TYPES.values() for m, size in types.items()}}
