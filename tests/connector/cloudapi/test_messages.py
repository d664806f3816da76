import json

import pytest

from connector.cloudapi import limits, messages, reply_ids
from connector.cloudapi.limits import LimitError
from tests.connector.fake_graph import interactive_validator

TO = "34600000001"


@pytest.fixture(scope="module")
def spec_validator(shared_dir):
    return interactive_validator(shared_dir)


def untag(reply_id):
    return reply_ids.untag(reply_id, reply_ids.key())


def buttons(n, title="Opción {i}", payload='/faq_pick{{"faq_key":"k{i}"}}'):
    return [{"title": title.format(i=i), "payload": payload.format(i=i)} for i in range(n)]


# --- text splitting ------------------------------------------------------------------------

def test_short_text_is_one_message():
    (body,) = messages.text_bodies(TO, "Hola, ¿en qué te ayudo?")
    assert body == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": TO,
                    "type": "text", "text": {"body": "Hola, ¿en qué te ayudo?"}}


def test_exactly_4096_is_not_split():
    assert messages.split_text("a" * 4096) == ["a" * 4096]


def test_split_prefers_paragraphs():
    first, second = "P" * 3000, "Q" * 2000
    chunks = messages.split_text(f"{first}\n\n{second}")
    assert chunks == [first, second]


def test_split_falls_back_to_sentences_then_words_never_mid_word():
    sentence = "Esta es una frase de ejemplo bastante normal. "
    text = sentence * 200  # ~9 200 chars, no paragraph breaks
    chunks = messages.split_text(text)
    assert all(len(c) <= 4096 for c in chunks)
    assert all(c.endswith(".") for c in chunks[:-1])
    assert " ".join(chunks).split() == text.split()

    words = "palabra " * 1200  # no sentence ends
    chunks = messages.split_text(words)
    assert all(len(c) <= 4096 for c in chunks)
    assert all(w == "palabra" for c in chunks for w in c.split())


def test_a_single_giant_word_is_cut_because_it_must():
    chunks = messages.split_text("x" * 5000)
    assert [len(c) for c in chunks] == [4096, 904]


def test_long_text_becomes_several_bodies_in_order():
    text = "\n\n".join(f"Párrafo {i}. " + "texto " * 150 for i in range(10))
    bodies = messages.text_bodies(TO, text)
    assert len(bodies) > 1
    assert all(len(b["text"]["body"]) <= limits.TEXT_MAX for b in bodies)
    assert "".join(b["text"]["body"] for b in bodies).replace("\n", "").replace(" ", "") == \
        text.replace("\n", "").replace(" ", "")


def test_empty_text_is_refused():
    with pytest.raises(LimitError):
        messages.text_bodies(TO, "  ")


# --- buttons -------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3])
def test_one_to_three_buttons_become_reply_buttons(n, spec_validator):
    body = messages.buttons_body(TO, "¿Qué necesitas?", buttons(n))
    interactive = body["interactive"]
    assert body["type"] == "interactive" and interactive["type"] == "button"
    assert [untag(b["reply"]["id"]) for b in interactive["action"]["buttons"]] == [b["payload"] for b in buttons(n)]
    spec_validator.validate(interactive)


@pytest.mark.parametrize("n", [4, 7, 10])
def test_four_to_ten_buttons_become_a_one_section_list(n, spec_validator):
    body = messages.buttons_body(TO, "Elige un tema", buttons(n))
    interactive = body["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Ver opciones"
    (section,) = interactive["action"]["sections"]
    assert [untag(r["id"]) for r in section["rows"]] == [b["payload"] for b in buttons(n)]
    spec_validator.validate(interactive)


def test_list_label_follows_the_language():
    assert messages.buttons_body(TO, "Pick", buttons(5), language="en")["interactive"]["action"]["button"] == "Options"
    assert messages.buttons_body(TO, "Elige", buttons(5), language="es-ES")["interactive"]["action"]["button"] == "Ver opciones"
    assert messages.buttons_body(TO, "Elige", buttons(5), language="fr")["interactive"]["action"]["button"] == "Ver opciones"


def test_header_footer_and_descriptions_validate(spec_validator):
    rows = [dict(b, description="Una descripción corta") for b in buttons(5)]
    body = messages.buttons_body(TO, "Body", rows, header="Preguntas frecuentes", footer="Tienda X")
    spec_validator.validate(body["interactive"])
    assert body["interactive"]["header"] == {"type": "text", "text": "Preguntas frecuentes"}
    assert body["interactive"]["action"]["sections"][0]["rows"][0]["description"] == "Una descripción corta"


def test_more_than_ten_buttons_is_an_error():
    with pytest.raises(LimitError, match="11 buttons"):
        messages.buttons_body(TO, "Elige", buttons(11))


def test_payload_longer_than_the_id_limit_is_an_error_not_a_truncation():
    # The limits leave room for the tag every id carries (connector/cloudapi/reply_ids.py).
    with pytest.raises(LimitError, match="payload is 244 characters, limit 243"):
        messages.buttons_body(TO, "Elige", [{"title": "A", "payload": "p" * 244}])
    with pytest.raises(LimitError, match="payload is 188 characters, limit 187"):
        messages.buttons_body(TO, "Elige", [{"title": "A", "payload": "p" * 188}] + buttons(3))


def test_button_without_payload_uses_its_title():
    body = messages.buttons_body(TO, "Elige", [{"title": "Sí"}, {"title": "No"}])
    assert [untag(b["reply"]["id"]) for b in body["interactive"]["action"]["buttons"]] == ["Sí", "No"]


def test_body_over_1024_is_an_error():
    with pytest.raises(LimitError, match="1024"):
        messages.buttons_body(TO, "x" * 1025, buttons(2))


# --- images, custom, templates, read receipts ------------------------------------------------

def test_image_by_url_with_caption():
    body = messages.image_body(TO, "https://example.com/a.png", "Nuestro horario")
    assert body["type"] == "image" and body["image"] == {"link": "https://example.com/a.png", "caption": "Nuestro horario"}
    with pytest.raises(LimitError):
        messages.image_body(TO, "file:///etc/passwd")


@pytest.mark.parametrize("custom", [
    {"type": "location", "location": {"latitude": 40.4, "longitude": -3.7, "name": "Tienda"}},
    {"reaction": {"message_id": "wamid.X", "emoji": "👍"}},
    {"type": "template", "template": {"name": "hello_world", "language": {"code": "es"}}},
    {"type": "document", "document": {"link": "https://example.com/a.pdf", "filename": "a.pdf"}},
])
def test_custom_passes_through(custom):
    body = messages.custom_body(TO, custom)
    kind = custom.get("type") or next(iter(custom))
    assert body["type"] == kind and body[kind] == custom[kind] and body["to"] == TO


def test_custom_interactive_is_limit_checked_and_spec_valid(spec_validator, shared_dir):
    examples = json.loads((shared_dir / "whatsapp" / "send_examples.json").read_text())
    for name in ("Send List Message", "Send Reply Button"):
        interactive = examples[name]["interactive"]
        spec_validator.validate(interactive)
        assert messages.custom_body(TO, {"type": "interactive", "interactive": interactive})["interactive"] == interactive
    too_many = {"type": "interactive", "interactive": {
        "type": "list", "body": {"text": "b"},
        "action": {"button": "Ver", "sections": [{"rows": [{"id": f"r{i}", "title": f"R{i}"} for i in range(11)]}]}}}
    with pytest.raises(LimitError, match="list rows: 11"):
        messages.custom_body(TO, too_many)


def test_bsuid_address():
    (body,) = messages.text_bodies({"recipient": "US.123"}, "Hola")
    assert body["recipient"] == "US.123" and "to" not in body


def test_read_receipt_matches_metas_example(shared_dir):
    examples = json.loads((shared_dir / "whatsapp" / "send_examples.json").read_text())
    example = examples["Send typing indicator and read receipt"]
    assert messages.read_receipt_body(example["message_id"], typing=True) == example
    assert "typing_indicator" not in messages.read_receipt_body("wamid.X", typing=False)


def test_template_and_read_receipt_are_not_free_form():
    assert not messages.is_free_form(messages.template_body(TO, "reopen", "es"))
    assert not messages.is_free_form(messages.read_receipt_body("wamid.X"))
    assert messages.is_free_form(messages.text_bodies(TO, "hola")[0])


def test_the_spec_validator_is_not_vacuous(spec_validator):
    import jsonschema

    bad = {"type": "button", "body": {"text": "b"},
           "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "t" * 21}}]}}
    with pytest.raises(jsonschema.ValidationError):
        spec_validator.validate(bad)
