"""Media on both sides: the business's Graph endpoints (upload, look up, download, delete) and
the customer's files, which reach the connector as `image`/`document`/… webhooks with a media id.

Like Meta's, a download URL needs the bearer token and stops working URL_TTL_SECONDS after the
look-up that made it (on the emulator's clock, so a test can let it expire): the client must
look the media up again. The chat page shows files through `/_emulator/media/{id}/view`, which
is the phone's own copy and needs no token.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from flask import Flask, Response, abort, jsonify, request

from .errors import ApiError, invalid, unknown_object
from .ids import new_numeric_id, sample_png

URL_TTL_SECONDS = 5 * 60  # Meta: media URLs are valid for five minutes
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # Meta's largest media file (a document)

# What a customer may send from the chat page: the message type for each file type.
CUSTOMER_KINDS = {"image/jpeg": "image", "image/png": "image", "image/webp": "sticker",
                  "video/mp4": "video", "audio/ogg": "audio", "audio/mpeg": "audio",
                  "audio/mp4": "audio", "application/pdf": "document", "text/plain": "document"}
MEDIA_KINDS = ("image", "document", "audio", "video", "sticker")


def store(emu, data: bytes, mime_type: str, filename: str | None = None) -> str:
    media_id = new_numeric_id()
    with emu.lock:
        emu.media[media_id] = {
            "id": media_id, "data": data, "mime_type": mime_type, "filename": filename,
            "sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
            "file_size": len(data),
        }
        if emu.store is not None:
            emu.store.save_media(media_id, data)
    return media_id


def inbound(emu, kind: str, action: dict) -> dict[str, Any]:
    """The `{kind}` object of a customer's media message (`media_id` of an uploaded file, or
    `sample: true` for the generated picture)."""
    media_id = action.get("media_id")
    if kind == "image" and (action.get("sample") or not media_id):
        media_id = store(emu, sample_png(), "image/png", "sample.png")
    media = emu.media.get(media_id) if isinstance(media_id, str) else None
    if media is None:
        raise invalid(f"unknown media id {media_id}")
    content: dict[str, Any] = {}
    if action.get("caption") and kind not in ("audio", "sticker"):
        content["caption"] = str(action["caption"])
    if kind == "document":
        content["filename"] = media["filename"] or "document"
    if kind == "audio" and action.get("voice"):
        content["voice"] = True
    content.update(mime_type=media["mime_type"], sha256=media["sha256"], id=media["id"])
    return content


def _signature(secret: str, media_id: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def register(app: Flask, emu, *, check_version, authorize, own_phone) -> None:
    settings = emu.settings
    app.config["MAX_CONTENT_LENGTH"] = MAX_UPLOAD_BYTES

    @app.post("/<version>/<phone_id>/media")
    def upload_media(version: str, phone_id: str):
        check_version(version)
        authorize()
        own_phone(phone_id)
        if request.form.get("messaging_product") != "whatsapp":
            raise ApiError(100, "The parameter messaging_product is required.")
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(131008, "The parameter file is required.")
        mime = request.form.get("type") or upload.mimetype or "application/octet-stream"
        return jsonify({"id": store(emu, upload.read(), mime, upload.filename)})

    @app.get("/<version>/<object_id>")
    def media_info(version: str, object_id: str):
        check_version(version)
        authorize()
        media = emu.media.get(object_id)
        if media is None:
            raise unknown_object(object_id)
        expires = int(emu.clock.now()) + URL_TTL_SECONDS
        url = (f"{request.host_url}_emulator/media/{object_id}/download?expires={expires}"
               f"&sig={_signature(settings.app_secret, object_id, expires)}")
        return jsonify({"messaging_product": "whatsapp", "url": url,
                        "mime_type": media["mime_type"], "sha256": media["sha256"],
                        "file_size": media["file_size"], "id": object_id})

    @app.delete("/<version>/<object_id>")
    def media_delete(version: str, object_id: str):
        check_version(version)
        authorize()
        with emu.lock:
            if emu.media.pop(object_id, None) is None:
                raise unknown_object(object_id)
        return jsonify({"success": True})

    @app.get("/_emulator/media/<media_id>/download")
    def media_download(media_id: str):
        authorize()  # Meta's media URLs also need the bearer token
        expires = request.args.get("expires", type=int)
        signed = hmac.compare_digest(request.args.get("sig", ""),
                                     _signature(settings.app_secret, media_id, expires or 0))
        if expires is None or not signed or emu.clock.now() > expires:
            return Response("URL expired or not valid: look the media id up again", 404,
                            mimetype="text/plain")
        return _file(media_id)

    @app.get("/_emulator/media/<media_id>/view")
    def media_view(media_id: str):
        return _file(media_id)

    def _file(media_id: str) -> Response:
        media = emu.media.get(media_id)
        if media is None:
            abort(404)
        headers = {"X-Content-Type-Options": "nosniff"}
        if CUSTOMER_KINDS.get(media["mime_type"]) not in ("image", "sticker", "audio", "video"):
            # Whatever a client uploaded (text/html, SVG…) is never rendered by the chat page.
            headers["Content-Disposition"] = "attachment"
        return Response(media["data"], mimetype=media["mime_type"], headers=headers)

    @app.post("/_emulator/media")
    def customer_upload():
        upload = request.files.get("file")
        if upload is None:
            return jsonify({"error": "multipart field 'file' is required"}), 400
        mime = (upload.mimetype or "").lower()
        kind = CUSTOMER_KINDS.get(mime)
        if kind is None:
            return jsonify({"error": f"the chat page sends {', '.join(CUSTOMER_KINDS)}; not {mime or 'this file'}"}), 400
        return jsonify({"id": store(emu, upload.read(), mime, upload.filename), "type": kind})
