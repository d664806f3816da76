"""The media proxy and the composer's attachments, against the emulator's Graph API in-process."""
from __future__ import annotations

import io

import pytest

from console import create_app
from emulator import media as emulator_media

from tests.console.conftest import CUSTOMER, SECRET, cpath
from tests.emulator.in_process import in_process_graph

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OTHER = "5215599990000"


@pytest.fixture
def graph():
    with in_process_graph() as g:
        yield g


@pytest.fixture
def app(redis_client, clock, fake_rasa, users, graph, tmp_path):
    from connector.cloudapi.media import MediaClient

    return create_app({
        "REDIS": redis_client, "CLOCK": clock, "RASA_URL": fake_rasa.url, "RASA_TOKEN": fake_rasa.token,
        "SECRET_KEY": SECRET, "TESTING": True, "SSE_MAX_SECONDS": 2,
        "MEDIA_CLIENT": MediaClient(graph.target, graph.client), "MEDIA_CACHE_DIR": str(tmp_path / "media"),
        "MEDIA_CACHE_MB": 1, "MEDIA_MAX_FILE_MB": 1,
    })


def customer_file(fake_rasa, graph, conv=CUSTOMER, data=PNG, mime="image/png", kind="image",
                  filename=None, caption="me llegó así") -> str:
    """The customer sent a file: it is on the emulator, and in the tracker as the connector puts it."""
    media_id = emulator_media.store(graph.emulator, data, mime, filename)
    fake_rasa.add(conv, {"event": "user", "text": f'/media_received{{"media_kind":"{kind}"}}',
                         "metadata": {"whatsapp": {"kind": kind, "text": caption, "media": {
                             "kind": kind, "id": media_id, "mime_type": mime, "filename": filename,
                             "caption": caption}}}})
    return media_id


def test_the_assigned_agent_sees_the_customers_image_inline_through_the_proxy(assigned, client_for, fake_rasa, graph):
    conv = assigned("ana")
    media_id = customer_file(fake_rasa, graph)
    ana = client_for("ana")
    page = ana.get(cpath(conv)).get_data(as_text=True)
    url = f"{cpath(conv)}/media/{media_id}"
    assert f'<img class="media-img" src="{url}"' in page and "me llegó así" in page
    assert "[image]" not in page
    served = ana.get(url)
    assert served.status_code == 200 and served.data == PNG
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert "lookaside" not in page and "/_emulator/media" not in page  # Meta's URL never reaches the browser


def test_another_agents_chat_is_403_and_a_media_id_not_in_the_conversation_is_404(
        assigned, queued, client_for, fake_rasa, graph, handoff):
    conv = assigned("ana")
    media_id = customer_file(fake_rasa, graph)
    luis, lucia = client_for("luis"), client_for("lucia")
    assert luis.get(f"{cpath(conv)}/media/{media_id}").status_code == 403
    assert lucia.get(f"{cpath(conv)}/media/{media_id}").status_code == 200  # a lead
    # luis's own queued chat with its own file: the first customer's media id is not in it.
    other = queued(OTHER, name="Pedro")
    own = customer_file(fake_rasa, graph, conv=other)
    assert luis.get(f"{cpath(other)}/media/{own}").status_code == 200  # queued: any agent
    assert luis.get(f"{cpath(other)}/media/{media_id}").status_code == 404
    assert luis.get(f"{cpath(other)}/media/123456789").status_code == 404



def test_an_agent_who_held_the_chat_before_still_sees_its_files_after_the_resolve(
        assigned, client_for, fake_rasa, graph, handoff):
    conv = assigned("ana")
    media_id = customer_file(fake_rasa, graph)
    handoff.resolve(conv, "ana")  # back with the bot: last week's conversation, looked up again
    assert client_for("ana").get(f"{cpath(conv)}/media/{media_id}").status_code == 200
    assert client_for("luis").get(f"{cpath(conv)}/media/{media_id}").status_code == 403


def test_html_and_svg_from_a_customer_are_never_served_inline(assigned, client_for, fake_rasa, graph):
    conv = assigned("ana")
    html = customer_file(fake_rasa, graph, data=b"<script>alert(1)</script>", mime="text/html",
                         kind="document", filename="factura.html")
    svg = customer_file(fake_rasa, graph, data=b"<svg onload=alert(1)>", mime="image/svg+xml", kind="image")
    ana = client_for("ana")
    for media_id in (html, svg):
        served = ana.get(f"{cpath(conv)}/media/{media_id}")
        assert served.status_code == 200
        assert served.headers["Content-Type"] == "application/octet-stream"
        assert served.headers["Content-Disposition"].startswith("attachment")
        assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_a_document_downloads_with_its_name_and_its_size_is_in_the_info(assigned, client_for, fake_rasa, graph):
    conv = assigned("ana")
    media_id = customer_file(fake_rasa, graph, data=b"%PDF-1.4 x", mime="application/pdf",
                             kind="document", filename="ticket.pdf", caption="")
    ana = client_for("ana")
    assert "ticket.pdf" in ana.get(cpath(conv)).get_data(as_text=True)
    info = ana.get(f"{cpath(conv)}/media/{media_id}/info").get_json()
    assert info == {"ok": True, "mime_type": "application/pdf", "file_size": 10}
    served = ana.get(f"{cpath(conv)}/media/{media_id}")
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["Content-Disposition"] == "attachment; filename=ticket.pdf"


def test_an_expired_url_is_looked_up_again(assigned, app, client_for, fake_rasa, graph):
    conv = assigned("ana")
    first = customer_file(fake_rasa, graph)
    second = customer_file(fake_rasa, graph)
    ana = client_for("ana")
    assert ana.get(f"{cpath(conv)}/media/{first}/info").status_code == 200  # URL looked up, kept
    # Meta's URL expires sooner than the console expected (clock skew, an early expiry).
    graph.emulator.clock.advance(emulator_media.URL_TTL_SECONDS + 1)
    info_requests = []
    graph.client.event_hooks["request"] = [lambda r: info_requests.append(r.url.path)]
    served = ana.get(f"{cpath(conv)}/media/{first}")
    assert served.status_code == 200 and served.data == PNG
    assert info_requests.count(f"/v23.0/{first}") == 1 and len(info_requests) == 3  # stale, look-up, fresh
    assert ana.get(f"{cpath(conv)}/media/{second}").status_code == 200


def test_gone_and_too_big_give_a_sentence_for_the_bubble_not_a_500(assigned, client_for, fake_rasa, graph):
    conv = assigned("ana")
    gone = customer_file(fake_rasa, graph)
    graph.emulator.media.pop(gone)
    big = customer_file(fake_rasa, graph, data=b"\xff\xd8" + b"\x00" * (1024 * 1024 + 1), mime="image/jpeg")
    ana = client_for("ana")
    missing = ana.get(f"{cpath(conv)}/media/{gone}/info")
    assert missing.status_code == 404 and "no longer has this file" in missing.get_json()["error"]
    too_big = ana.get(f"{cpath(conv)}/media/{big}")
    assert too_big.status_code == 413 and "up to 1 MB" in too_big.get_json()["error"]


def test_the_cache_keeps_its_bound_and_evicts_the_least_recently_used(tmp_path):
    from console.desk.media_cache import MediaCache

    cache = MediaCache(tmp_path / "c", max_bytes=250, max_file_bytes=200)
    cache.put("1", b"a" * 100, "image/png")
    cache.put("2", b"b" * 100, "image/png")
    assert cache.get("1") is not None  # used: now newer than "2"
    cache.put("3", b"c" * 100, "image/png")
    assert cache.total_bytes() <= 250
    assert cache.get("2") is None and cache.get("1") and cache.get("3")
    cache.put("4", b"d" * 201, "image/png")  # above the per-file cap: never kept
    assert cache.get("4") is None


def test_an_agent_sends_a_pdf_by_its_uploaded_media_id(assigned, client_for, fake_rasa, graph):
    conv = assigned("ana")
    ana = client_for("ana")
    response = ana.post(f"{cpath(conv)}/attach", headers={"Accept": "application/json"}, data={
        "csrf_token": ana.csrf, "caption": "Tu factura",
        "file": (io.BytesIO(b"%PDF-1.4 factura"), "factura.pdf", "application/pdf")})
    assert response.status_code == 200, response.get_data(as_text=True)
    (media_id, stored), = graph.emulator.media.items()
    assert stored["data"] == b"%PDF-1.4 factura" and stored["mime_type"] == "application/pdf"
    event = fake_rasa.posts(conv)[-1].body[0]
    assert event["data"]["custom"] == {"type": "document", "document": {
        "id": media_id, "caption": "Tu factura", "filename": "factura.pdf"}}
    assert event["metadata"]["agent"] == "ana" and event["metadata"]["media"]["file_size"] == 16
    page = ana.get(cpath(conv)).get_data(as_text=True)
    assert f'href="{cpath(conv)}/media/{media_id}"' in page and "Tu factura" in page


REFUSED = [  # name, type, bytes, caption, the reason given
    ("big.png", "image/png", b"\x89PNG" + b"\x00" * (5 * 1024 * 1024), "", "up to 5.0 MB"),
    ("page.html", "text/html", b"<p>hi</p>", "", "does not take files of type text/html"),
    ("s.webp", "image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 200 * 1024, "", "up to 100 KB"),
    ("v.ogg", "audio/ogg", b"OggS", "hola", "cannot carry a caption"),
]


def test_an_attachment_beyond_whatsapps_limits_is_refused_before_any_upload(
        assigned, client_for, fake_rasa, graph):
    conv = assigned("ana")
    ana = client_for("ana")
    before = len(fake_rasa.posts(conv))
    for name, mime, data, caption, reason in REFUSED:
        response = ana.post(f"{cpath(conv)}/attach", headers={"Accept": "application/json"}, data={
            "csrf_token": ana.csrf, "caption": caption, "file": (io.BytesIO(data), name, mime)})
        assert response.status_code == 400 and reason in response.get_json()["error"], name
    assert graph.emulator.media == {} and len(fake_rasa.posts(conv)) == before


def test_no_file_goes_out_after_the_window_closed_or_from_an_agent_without_the_chat(
        assigned, client_for, fake_rasa, graph, clock):
    conv = assigned("ana")
    luis = client_for("luis")
    pdf = {"file": (io.BytesIO(b"%PDF"), "a.pdf", "application/pdf")}
    assert luis.post(f"{cpath(conv)}/attach", data={"csrf_token": luis.csrf, **pdf}).status_code == 403
    clock.advance(hours=25)
    ana = client_for("ana")
    pdf = {"file": (io.BytesIO(b"%PDF"), "a.pdf", "application/pdf")}
    closed = ana.post(f"{cpath(conv)}/attach", headers={"Accept": "application/json"},
                      data={"csrf_token": ana.csrf, **pdf})
    assert closed.status_code == 409 and "nothing was uploaded" in closed.get_json()["error"]
    assert graph.emulator.media == {}
