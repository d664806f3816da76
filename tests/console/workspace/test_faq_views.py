"""The leads' FAQ pages through Flask's test client, on a copy of the project."""
from __future__ import annotations

import re

import pytest

from bot.content.faq_file import faq_path

from ..conftest import login, csrf_token

EDIT = "/faqs/returns"


@pytest.fixture
def lead(client_for):
    return client_for("lucia")


def form_of(page: str) -> dict:
    """The edit form's fields as the browser would post them (textareas, inputs, selected options)."""
    form = page[page.index('id="faq-form"'):page.index("</form>", page.index('id="faq-form"'))]
    data: dict[str, list[str]] = {}
    for tag, name, value in re.findall(r'(<input[^>]*name="([^"]+)"[^>]*value="([^"]*)")', form):
        if 'type="checkbox"' not in tag:
            data.setdefault(name, []).append(unescape(value))
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[name] = [unescape(value)]
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        data.setdefault(name, []).append(unescape(chosen.group(1)) if chosen else "")
    if re.search(r'name="offer_agent"[^>]*checked', form):
        data["offer_agent"] = ["1"]
    return data


def unescape(text: str) -> str:
    return (text.replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
            .replace("&quot;", '"').replace("&amp;", "&"))


def post_form(client, url: str, data: dict, **changes):
    body = {k: list(v) for k, v in data.items()}
    body.update({k: v if isinstance(v, list) else [v] for k, v in changes.items()})
    body["action"] = ["save"]
    return client.post(url, data=body)


def test_agents_cannot_open_the_faq_pages_and_leads_see_the_nav_link(client_for):
    agent = client_for("ana")
    assert agent.get("/faqs/").status_code == 403
    assert agent.get(EDIT).status_code == 403
    assert ">FAQs</a>" not in agent.get("/").get_data(as_text=True)
    assert ">FAQs</a>" in client_for("lucia").get("/").get_data(as_text=True)


def test_the_list_shows_topics_example_counts_and_searches(lead):
    page = lead.get("/faqs/").get_data(as_text=True)
    row = re.search(r'<tr data-faq="returns">(.*?)</tr>', page, re.S).group(1)
    assert "<td>returns</td>" in row and "<td>20</td>" in row and "<td>19</td>" in row
    found = lead.get("/faqs/?q=rastrear").get_data(as_text=True)
    assert 'data-faq="order_tracking"' in found and 'data-faq="returns"' not in found
    sized = lead.get("/faqs/?topic=size").get_data(as_text=True)
    assert sized.count("<tr data-faq=") == 2


def test_the_edit_page_previews_the_answer_as_whatsapp_shows_it(lead):
    page = lead.get(EDIT).get_data(as_text=True)
    assert "<strong>30 días</strong>" in page  # *30 días* in the shipped answer
    assert "quiero devolver unos zapatos\n" in page


def test_a_clean_save_writes_only_the_edit_and_records_who(lead, project):
    path = faq_path(project, "returns")
    before = path.read_text(encoding="utf-8")
    data = form_of(lead.get(EDIT).get_data(as_text=True))
    examples = data["examples.en"][0] + "\nmy shoes don't fit, can i return them\nreturn for a refund please"
    response = post_form(lead, EDIT, data, **{"examples.en": examples})
    assert response.status_code == 303, response.get_data(as_text=True)
    after = path.read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["    - my shoes don't fit, can i return them", "    - return for a refund please"]
    assert len(after.splitlines()) == len(before.splitlines()) + 2
    listing = lead.get("/faqs/").get_data(as_text=True)
    row = re.search(r'<tr data-faq="returns">(.*?)</tr>', listing, re.S).group(1)
    assert "by lucia" in row and "<td>21</td>" in row


def test_errors_show_next_to_their_field_and_the_edit_stays_a_draft(lead, project):
    path = faq_path(project, "returns")
    before = path.read_bytes()
    data = form_of(lead.get(EDIT).get_data(as_text=True))
    response = post_form(lead, EDIT, data, **{"examples.en": "return\nreturns please", "answer.es": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert path.read_bytes() == before
    assert 'id="draft-banner"' in page
    en = page[page.index('data-language="en"'):]
    examples_field = en[en.index('name="examples.en"'):en.index('name="answer.en"')]
    assert "only 2 en examples (minimum 10)" in examples_field
    es = page[page.index('data-language="es"'):page.index('data-language="en"')]
    answer_field = es[es.index('name="answer.es"'):es.index("Follow-up buttons")]
    assert "text is empty" in answer_field
    again = lead.get(EDIT).get_data(as_text=True)  # the draft comes back on the next visit
    assert 'id="draft-banner"' in again and "returns please</textarea>" in again
    lead.post("/faqs/returns/discard", data={"csrf_token": lead.csrf})
    assert 'id="draft-banner"' not in lead.get(EDIT).get_data(as_text=True)


def test_a_follow_up_button_is_saved_and_previewed(lead, project):
    data = form_of(lead.get(EDIT).get_data(as_text=True))
    data["buttons.es.title"] = ["Rastrear pedido", ""]
    data["buttons.es.payload"] = ['/faq_pick{{"faq_key":"order_tracking"}}', ""]
    data["offer_agent"] = ["1"]
    assert post_form(lead, EDIT, data).status_code == 303
    text = faq_path(project, "returns").read_text(encoding="utf-8")
    assert "    buttons:\n    - title: \"Rastrear pedido\"\n      payload: '/faq_pick{{\"faq_key\":\"order_tracking\"}}'\n" in text
    assert "    offer_agent: true\n" in text
    page = lead.get(EDIT).get_data(as_text=True)
    assert '<span class="wa-button">Rastrear pedido</span>' in page


def test_the_preview_fragment_escapes_and_formats_and_shows_a_list_past_three_buttons(lead):
    response = lead.post("/faqs/preview", data={
        "language": "es", "answer": "<img src=x onerror=alert(1)> *hola* _a_ ~b~ ```c```",
        "title": ["Uno", "Dos", "Tres", "Cuatro"], "csrf_token": lead.csrf})
    html = response.get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert "<strong>hola</strong> <em>a</em> <s>b</s> <code>c</code>" in html
    assert "Ver opciones" in html and "<li>Cuatro</li>" in html


def test_a_stale_save_shows_both_versions_and_the_merged_form_saves(lead, app, users, project):
    users.create("marta", "lead", "marta-secret-pass-4")
    marta = app.test_client()
    login(marta, "marta", "marta-secret-pass-4")
    mine = form_of(lead.get(EDIT).get_data(as_text=True))
    theirs = form_of(marta.get(EDIT).get_data(as_text=True))
    assert post_form(marta, EDIT, theirs, **{"answer.en": "Marta's *new* answer."}).status_code == 303
    response = post_form(lead, EDIT, mine, **{"examples.en": mine["examples.en"][0] + "\nsend my sandals back"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and 'id="conflict-banner"' in page
    assert "Marta&#39;s *new* answer.</pre>" in page  # their saved answer, beside the lead's own edit
    assert "send my sandals back</textarea>" in page
    merged = form_of(page)
    assert merged["version"] != mine["version"]
    assert post_form(lead, EDIT, merged, **{"answer.en": "Marta's *new* answer."}).status_code == 303
    text = faq_path(project, "returns").read_text(encoding="utf-8")
    assert "send my sandals back" in text and "Marta's *new* answer." in text


def test_create_rename_and_a_refused_delete(lead, project):
    examples = {f"examples.{lang}": "\n".join(f"gift wrap {lang} question {i}" for i in range(10)) for lang in ("es", "en")}
    response = lead.post("/faqs/new", data={"csrf_token": lead.csrf, "key": "gift_wrap", "version": "absent",
                                            "answer.es": "Sí, envolvemos *gratis*.", "answer.en": "Yes, *free*.",
                                            "action": "save", **examples})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert faq_path(project, "gift_wrap").exists()
    version = form_of(lead.get("/faqs/gift_wrap").get_data(as_text=True))["version"][0]
    response = lead.post("/faqs/gift_wrap/rename", data={"csrf_token": lead.csrf, "new_key": "wrapping", "version": version})
    assert response.status_code == 303 and response.headers["Location"].endswith("/faqs/wrapping")
    assert not faq_path(project, "gift_wrap").exists() and faq_path(project, "wrapping").exists()
    version = form_of(lead.get("/faqs/opening_hours").get_data(as_text=True))["version"][0]
    refused = lead.post("/faqs/opening_hours/delete", data={"csrf_token": lead.csrf, "version": version})
    assert refused.status_code == 422
    assert "picks unknown FAQ &#39;opening_hours&#39;" in refused.get_data(as_text=True)
    assert faq_path(project, "opening_hours").exists()


def test_unknown_and_path_like_keys_are_not_found(lead):
    assert lead.get("/faqs/nope").status_code == 404
    assert lead.get("/faqs/..%2Fdomain").status_code == 404


def test_posts_without_the_form_token_are_refused(app, project):
    client = app.test_client()
    login(client, "lucia")
    csrf_token(client, "/")
    assert client.post(EDIT, data={"answer.en": "x"}).status_code == 400


def test_a_new_faq_with_errors_is_a_draft_the_list_links_back_to(lead, project):
    response = lead.post("/faqs/new", data={"csrf_token": lead.csrf, "key": "gift_wrap", "version": "absent",
                                            "examples.es": "envuelven regalos", "answer.es": "Sí.", "action": "save"})
    assert response.status_code == 422 and not faq_path(project, "gift_wrap").exists()
    listing = lead.get("/faqs/").get_data(as_text=True)
    assert 'href="/faqs/new?key=gift_wrap"' in listing
    resumed = lead.get("/faqs/new?key=gift_wrap").get_data(as_text=True)
    assert 'id="draft-banner"' in resumed and "envuelven regalos</textarea>" in resumed


def test_the_list_shows_each_faqs_hits_of_the_last_7_days_and_how_many_ended_with_a_person(lead, recorder, clock):
    now = clock.now().timestamp()
    recorder.turn("c1", now - 3600, "horario", faq="opening_hours")
    recorder.turn("c2", now - 1800, "a que hora abren", faq="opening_hours", handoff=True)
    recorder.turn("c3", now - 8 * 86400, "horario?", faq="opening_hours")  # older than a week
    page = lead.get("/faqs/").get_data(as_text=True)
    row = re.search(r'<tr data-faq="opening_hours">.*?</tr>', page, re.S).group(0)
    assert re.search(r'<td class="hits">2</td>', row) and "50 %" in row
    other = re.search(r'<tr data-faq="returns">.*?</tr>', page, re.S).group(0)
    assert '<td class="hits">0</td>' in other


def test_the_preview_shows_the_hours_the_bot_fills_in_not_the_placeholder(lead):
    """The opening-hours answer takes its hours from hours.yml when it is sent; the lead must see
    that text, not `{hours_week}`."""
    page = lead.get("/faqs/opening_hours").get_data(as_text=True)
    preview = re.search(r'id="preview-es".*?</div>\s*</div>', page, re.S).group(0)
    assert "{hours_week}" not in preview and "Lunes" in preview
    fragment = lead.post("/faqs/preview", data={"language": "en", "answer": "Hours:\n{hours_week}",
                                                "csrf_token": lead.csrf}).get_data(as_text=True)
    assert "{hours_week}" not in fragment and "Monday" in fragment
