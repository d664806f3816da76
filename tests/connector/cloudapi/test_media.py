"""The Cloud API media client against the emulator's Graph API (in-process)."""
from __future__ import annotations

import io

import pytest

from connector.cloudapi import limits
from connector.cloudapi.errors import PermanentError
from connector.cloudapi.limits import LimitError
from connector.cloudapi.media import ExpiredUrlError, MediaClient, TooLargeError
from emulator.media import URL_TTL_SECONDS

from tests.emulator.in_process import in_process_graph


@pytest.fixture
def graph():
    with in_process_graph() as g:
        yield g


def test_upload_look_up_and_download_a_pdf(graph):
    client = MediaClient(graph.target, graph.client)
    media_id = client.upload(b"%PDF-1.4 x", "application/pdf", "a.pdf")
    info = client.info(media_id)
    assert (info.mime_type, info.file_size) == ("application/pdf", 10)
    out = io.BytesIO()
    assert client.download(info, out, max_bytes=100) == 10 and out.getvalue() == b"%PDF-1.4 x"
    with pytest.raises(TooLargeError):
        client.download(info, io.BytesIO(), max_bytes=5)
    graph.emulator.clock.advance(URL_TTL_SECONDS + 1)
    with pytest.raises(ExpiredUrlError):
        client.download(info, io.BytesIO(), max_bytes=100)
    with pytest.raises(PermanentError):
        client.info("999")


def test_a_file_whatsapp_would_refuse_is_never_uploaded(graph):
    client = MediaClient(graph.target, graph.client)
    for data, mime in ((b"\xff" * (5 * limits.MB + 1), "image/jpeg"), (b"<svg/>", "image/svg+xml"),
                       (b"", "application/pdf")):
        with pytest.raises(LimitError):
            client.upload(data, mime, "f")
    assert graph.emulator.media == {}


def test_whatsapps_media_limits():
    assert limits.media_kind("audio/ogg; codecs=opus") == "audio"
    assert limits.media_kind("image/webp") == "sticker" and limits.media_kind("text/html") is None
    animated = b"RIFF\x00\x00\x00\x00WEBPVP8X" + b"\x00\x00\x00\x00\x02" + b"\x00" * 300 * 1024
    assert limits.check_file("image/webp", animated) == []  # animated: 500 KB
    assert limits.check_file("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 300 * 1024)
    assert limits.check_media("video/mp4", 16 * limits.MB) == []
    assert limits.check_media("application/pdf", 100 * limits.MB + 1)
    assert limits.check_media("image/png", 10, caption="x" * 1025)
