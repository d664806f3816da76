"""The emulator's media: download URLs that need the token and expire, and customers' files."""
from __future__ import annotations

from emulator.media import URL_TTL_SECONDS

from tests.emulator.conftest import CUSTOMER, TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _upload(emu, data: bytes, mime: str, name: str) -> dict:
    response = emu.client.post(f"{emu.base}/_emulator/media", files={"file": (name, data, mime)})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_media_url_expires_and_a_new_look_up_gives_one_that_works(emu, receiver):
    sent = emu.customer({"type": "image", "sample": True})
    media_id = sent["webhook"]["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"]
    old = emu.client.get(f"{emu.base}/v23.0/{media_id}", headers=AUTH).json()["url"]
    assert emu.client.get(old, headers=AUTH).status_code == 200
    emu.client.post(f"{emu.base}/_emulator/clock", json={"advance_seconds": URL_TTL_SECONDS + 1})
    assert emu.client.get(old, headers=AUTH).status_code == 404
    assert emu.client.get(old.replace("sig=", "sig=0"), headers=AUTH).status_code == 404
    fresh = emu.client.get(f"{emu.base}/v23.0/{media_id}", headers=AUTH).json()["url"]
    assert fresh != old and emu.client.get(fresh, headers=AUTH).content.startswith(b"\x89PNG")


def test_a_customer_sends_a_pdf_as_a_document_webhook_with_its_filename(emu, receiver):
    uploaded = _upload(emu, b"%PDF-1.4 invoice", "application/pdf", "factura.pdf")
    assert uploaded["type"] == "document"
    sent = emu.customer({"type": "document", "media_id": uploaded["id"], "caption": "mi factura"})
    document = sent["webhook"]["entry"][0]["changes"][0]["value"]["messages"][0]["document"]
    assert document == {"caption": "mi factura", "filename": "factura.pdf",
                        "mime_type": "application/pdf", "sha256": document["sha256"],
                        "id": uploaded["id"]}
    assert emu.client.get(f"{emu.base}/_emulator/media/{uploaded['id']}/view").headers[
        "Content-Disposition"] == "attachment"


def test_the_chat_page_refuses_a_file_type_whatsapp_does_not_carry(emu):
    response = emu.client.post(f"{emu.base}/_emulator/media",
                               files={"file": ("x.html", b"<script>", "text/html")})
    assert response.status_code == 400 and "text/html" in response.json()["error"]
