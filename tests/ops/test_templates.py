"""`python -m ops.templates`: list, show, load, and sync from the Cloud API's paged template list
(the emulator plays Meta, in process)."""
from __future__ import annotations

import httpx
import pytest

from connector.cloudapi import errors
from connector.cloudapi.config import ConfigError, GraphTarget
from connector.cloudapi.template_list import fetch_templates
from connector.policy.templates import TemplateRegister
from emulator.app import create_app
from emulator.settings import Settings
from ops.templates import main

TOKEN = "test-token"


@pytest.fixture
def meta():
    """The emulator's Graph API over WSGI: (a client for it, the Graph target, its templates)."""
    settings = Settings(access_token=TOKEN, webhook_url="http://127.0.0.1:9/unused")
    app = create_app(settings)
    emu = app.extensions["whatsapp_emulator"]
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://emulator")
    target = GraphTarget(TOKEN, settings.phone_number_id, graph_url="http://emulator", waba_id=settings.waba_id)
    yield client, target, emu.templates
    client.close()
    emu.close()


def run(register, capsys, *argv, **kwargs):
    code = main(list(argv), register=register, **kwargs)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_fetch_follows_metas_paging_to_the_last_page(meta):
    client, target, store = meta
    items = fetch_templates(target, client, page_size=4)
    assert [(t["name"], t["language"]) for t in items] == [(t["name"], t["language"]) for t in store.items]
    assert len(items) == 11  # three pages of 4, 4, 3


def test_fetch_raises_metas_error(meta):
    client, target, _ = meta
    with pytest.raises(errors.AuthError):
        fetch_templates(GraphTarget("wrong", target.phone_number_id, graph_url="http://emulator",
                                    waba_id=target.waba_id), client)
    with pytest.raises(ConfigError, match="WHATSAPP_BUSINESS_ACCOUNT_ID"):
        fetch_templates(GraphTarget(TOKEN, "1", graph_url="http://emulator"), client)


def test_load_list_show_then_sync_what_meta_changed(meta, redis_client, capsys):
    client, target, store = meta
    register = TemplateRegister(redis_client)
    code, out, _ = run(register, capsys, "load")
    assert code == 0 and out.startswith("11 template translation(s) loaded")
    code, out, _ = run(register, capsys, "list")
    assert "order_confirmation       es_MX  utility        approved  unknown" in out
    assert out.rstrip().endswith("7 template(s), 11 translation(s)")
    code, out, _ = run(register, capsys, "show", "promo_temporada")
    assert "button quick_reply: Dejar de recibir → STOP_PROMOTIONS" in out and "param 3: vigencia (date_time)" in out
    assert run(register, capsys, "show", "nope")[0] == 1

    store.set_status("promo_temporada", "es_MX", "PAUSED", "", 0, target.waba_id)
    store.set_quality("order_confirmation", "en_US", "YELLOW", 0, target.waba_id)
    code, out, _ = run(register, capsys, "sync", target=target, client=client)
    assert code == 0 and out.startswith("11 template translation(s) at Meta: 0 added, 11 updated, 0 removed")
    assert register.get("promo_temporada", "es_MX").status == "paused"
    assert register.get("order_confirmation", "en_US").quality == "yellow"
    assert register.get("order_confirmation", "en_US").id  # Meta's id, now known
    # Meta does not list parameter types; what the file declared stays.
    assert [p.type for p in register.get("order_confirmation", "en_US").params][-1] == "currency"


def test_a_bad_file_changes_nothing_and_says_why(redis_client, tmp_path, capsys):
    bad = tmp_path / "templates.yml"
    bad.write_text("templates:\n  - name: x\n    language: es_MX\n    category: spam\n    components: []\n")
    register = TemplateRegister(redis_client)
    code, _, err = run(register, capsys, "load", str(bad))
    assert code == 1 and "Nothing changed: template x (es_MX): category 'spam'" in err
    assert register.all() == []
