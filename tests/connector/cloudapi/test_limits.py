import pytest

from connector.cloudapi import limits
from connector.cloudapi.limits import LimitError, validate_rasa_response


def reply(i, title=None, id_=None):
    return {"id": f"id{i}" if id_ is None else id_, "title": f"Title {i}" if title is None else title}


def rows(n, **extra):
    return [{"id": f"r{i}", "title": f"Row {i}", **extra} for i in range(n)]


@pytest.mark.parametrize("buttons, expected", [
    ([reply(1)], []),
    ([reply(1), reply(2), reply(3)], []),
    ([], ["reply buttons: 0 given"]),
    ([reply(i) for i in range(4)], ["reply buttons: 4 given"]),
    ([reply(1, title="x" * 20)], []),
    ([reply(1, title="x" * 21)], ["button 1 title is 21 characters, limit 20"]),
    ([reply(1, id_="i" * 256)], []),
    ([reply(1, id_="i" * 257)], ["button 1 id is 257 characters, limit 256"]),
    ([reply(1, title="")], ["button 1 title is required"]),
    ([reply(1, id_=" x ")], ["leading/trailing spaces"]),
    ([reply(1, id_="same"), reply(2, id_="same")], ["duplicate button id 'same'"]),
    ([reply(1, title="Same"), reply(2, title="Same")], ["duplicate button title 'Same'"]),
])
def test_reply_button_limits(buttons, expected):
    problems = limits.check_reply_buttons(buttons)
    assert len(problems) == len(expected)
    for problem, fragment in zip(problems, expected):
        assert fragment in problem


@pytest.mark.parametrize("button, sections, fragment", [
    ("Ver opciones", [{"rows": rows(10)}], None),
    ("Ver opciones", [{"rows": rows(11)}], "list rows: 11 in total, limit 10"),
    ("Ver opciones", [{"title": "A", "rows": rows(6)}, {"title": "B", "rows": rows(5)}], "list rows: 11"),
    ("x" * 21, [{"rows": rows(2)}], "list button text is 21 characters, limit 20"),
    ("", [{"rows": rows(2)}], "list button text is required"),
    ("Ok", [{"rows": [{"id": "a", "title": "t" * 25}]}], "row 1 title is 25 characters, limit 24"),
    ("Ok", [{"rows": [{"id": "a", "title": "t", "description": "d" * 73}]}], "description is 73 characters, limit 72"),
    ("Ok", [{"rows": [{"id": "a" * 201, "title": "t"}]}], "row 1 id is 201 characters, limit 200"),
    ("Ok", [{"title": "s" * 25, "rows": rows(1)}], "section 1 title is 25 characters, limit 24"),
    ("Ok", [{"rows": rows(1)}, {"title": "B", "rows": [{"id": "x", "title": "y"}]}], "section 1 title is required"),
    ("Ok", [{"rows": [{"id": "a", "title": "t"}, {"id": "a", "title": "u"}]}], "duplicate row id 'a'"),
    ("Ok", [], "list sections: 0 given"),
])
def test_list_limits(button, sections, fragment):
    problems = limits.check_list(button, sections)
    if fragment is None:
        assert problems == []
    else:
        assert any(fragment in p for p in problems), problems


def test_interactive_body_header_footer_limits():
    interactive = {"type": "button", "body": {"text": "b" * 1025},
                   "header": {"type": "text", "text": "h" * 61}, "footer": {"text": "f" * 61},
                   "action": {"buttons": [{"type": "reply", "reply": reply(1)}]}}
    problems = limits.check_interactive(interactive)
    assert any("interactive body is 1025 characters, limit 1024" in p for p in problems)
    assert any("header is 61 characters, limit 60" in p for p in problems)
    assert any("footer is 61 characters, limit 60" in p for p in problems)
    interactive.update(body={"text": "b" * 1024}, header={"type": "text", "text": "h" * 60},
                       footer={"text": "f" * 60})
    assert limits.check_interactive(interactive) == []


def test_text_limit():
    assert limits.check_text("t" * 4096) == []
    assert "limit 4096" in limits.check_text("t" * 4097)[0]


def test_limit_error_lists_every_problem():
    with pytest.raises(LimitError) as caught:
        limits.enforce(limits.check_reply_buttons([reply(1, title="x" * 30), reply(2, id_="i" * 300)]))
    assert len(caught.value.problems) == 2
    assert "button 1 title" in str(caught.value) and "button 2 id" in str(caught.value)


@pytest.mark.parametrize("response, fragment", [
    ({"text": "Hola"}, None),
    ({"text": "Elige", "buttons": [{"title": "Sí", "payload": "/affirm"}]}, None),
    ({"text": "Elige", "buttons": [{"title": f"Opción {i}", "payload": f"/p{i}"} for i in range(10)]}, None),
    ({"text": "Elige", "buttons": [{"title": f"Opción {i}", "payload": f"/p{i}"} for i in range(11)]},
     "11 buttons"),
    ({"text": "Elige", "buttons": [{"title": "Una opción demasiado larga", "payload": "/a"}]},
     "reply button 1 title is 26 characters, limit 20"),
    ({"text": "Elige", "buttons": [{"title": f"Opción número {i}xxxxxxxxxx", "payload": f"/p{i}"} for i in range(4)]},
     "list row 1 title is 25 characters, limit 24"),
    ({"text": "Elige", "buttons": [{"title": "A", "payload": "/x" * 101}, {"title": "B", "payload": "/b"},
                                   {"title": "C", "payload": "/c"}, {"title": "D", "payload": "/d"}]},
     "list row 1 payload is 202 characters, limit 187"),
    ({"text": "Elige", "buttons": [{"title": "A", "payload": "/a"}, {"title": "B", "payload": "/a"}]},
     "duplicate reply button payload '/a'"),
    ({"text": "x" * 1025, "buttons": [{"title": "A", "payload": "/a"}]}, "limit 1024"),
    ({"buttons": [{"title": "A", "payload": "/a"}]}, "text shown with buttons is required"),
    ({"image": "ftp://x/y.png"}, "http(s) URL"),
    ({"image": "https://example.com/a.png", "text": "caption-ish"}, None),
    ({"custom": {"type": "location", "location": {"latitude": 1, "longitude": 2}}}, None),
    ({"custom": {"whatever": 1}}, "custom needs a 'type'"),
    ({"custom": {"type": "interactive", "interactive": {
        "type": "button", "body": {"text": "b"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "t" * 21}}]}}}},
     "button 1 title is 21 characters"),
    ({"text": "Hi", "channel": "telegram", "buttons": [{"title": "x" * 50, "payload": "/a"}]}, None),
    ({"condition": [{"type": "slot", "name": "language", "value": "en"}]}, "nothing WhatsApp can send"),
])
def test_validate_rasa_response(response, fragment):
    problems = validate_rasa_response(response)
    if fragment is None:
        assert problems == []
    else:
        assert any(fragment in p for p in problems), problems


def test_business_profile_limits_are_meta_s():
    ok = {"about": "a" * 139, "address": "a" * 256, "description": "d" * 512, "email": "hola@alba.example",
          "websites": ["https://a.example", "http://b.example"], "vertical": "APPAREL"}
    assert limits.check_business_profile(ok) == []
    problems = limits.check_business_profile({
        "about": "a" * 140, "description": "d" * 513, "email": "nope", "vertical": "SHOES",
        "websites": ["https://a.example", "ftp://b.example", "https://c.example"], "colour": "red"})
    assert [p.split(" ")[0] for p in problems] == [
        "unknown", "about", "description", "email", "websites", "website", "vertical"]
    assert "about is 140 characters, limit 139" in problems[1]
    assert limits.check_business_profile({"about": " "}) == ["about is required and cannot be empty"]
