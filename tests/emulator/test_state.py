"""EMULATOR_STATE_DIR: an emulator started again on the same state remembers customers and chats,
so a demo after `make run` twice does not fail with 131047 (the customer's window forgotten)."""
from __future__ import annotations

import stat

from emulator.app import create_app

from tests.emulator.conftest import CUSTOMER, PHONE_ID, TOKEN, make_settings, wait_for


def _start(settings):
    app = create_app(settings)
    return app, app.test_client()


def _stop(app):
    app.extensions["whatsapp_emulator"].close()


def test_a_restarted_emulator_keeps_the_conversation_and_its_window(tmp_path, receiver):
    settings = make_settings(receiver.url, state_dir=str(tmp_path / "emulator"))
    app, client = _start(settings)
    wrote = client.post(f"/_emulator/customers/{CUSTOMER}/messages", json={"type": "text", "text": "hola", "name": "Ana"})
    assert wrote.status_code == 200
    image = client.post(f"/_emulator/customers/{CUSTOMER}/messages", json={"type": "image", "sample": True})
    media_id = image.json["webhook"]["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["id"]
    _stop(app)

    app, client = _start(settings)
    try:
        chat = client.get(f"/_emulator/customers/{CUSTOMER}/chat").json
        assert chat["customer"]["name"] == "Ana" and chat["customer"]["window"]["open"]
        assert [m["type"] for m in chat["messages"]] == ["text", "image"]
        assert client.get(f"/_emulator/media/{media_id}/view").status_code == 200
        sent = client.post(f"/v23.0/{PHONE_ID}/messages", headers={"Authorization": f"Bearer {TOKEN}"},
                           json={"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text",
                                 "text": {"body": "¡Hola, Ana!"}})
        assert sent.status_code == 200
        wamid = sent.json["messages"][0]["id"]
        # Inside the window the answer is delivered; a forgotten window would fail it with 131047.
        wait_for(lambda: [s for s in receiver.statuses(wamid) if s["status"] == "delivered"],
                 what="delivered status")
        assert not [s for s in receiver.statuses(wamid) if s["status"] == "failed"]
    finally:
        _stop(app)


def test_the_state_on_disk_is_owner_only(tmp_path, receiver):
    settings = make_settings(receiver.url, state_dir=str(tmp_path / "emulator"))
    app, client = _start(settings)
    client.post(f"/_emulator/customers/{CUSTOMER}/messages", json={"type": "image", "sample": True})
    _stop(app)
    directory = tmp_path / "emulator"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = [p for p in directory.rglob("*") if p.is_file()]
    assert files and all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in files)


def test_reset_forgets_the_saved_state_too(tmp_path, receiver):
    settings = make_settings(receiver.url, state_dir=str(tmp_path / "emulator"))
    app, client = _start(settings)
    client.post(f"/_emulator/customers/{CUSTOMER}/messages", json={"type": "text", "text": "hola"})
    client.post("/_emulator/reset")
    _stop(app)
    app, client = _start(settings)
    try:
        assert client.get(f"/_emulator/customers/{CUSTOMER}/chat").json["messages"] == []
    finally:
        _stop(app)
