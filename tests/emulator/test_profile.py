"""The emulator's business profile endpoint: GET with fields=, POST updates what it names,
Meta's validation errors change nothing, and the profile survives a restart."""
from __future__ import annotations

from emulator.app import create_app

from tests.emulator.conftest import PHONE_ID, TOKEN, make_settings

URL = f"/v23.0/{PHONE_ID}/whatsapp_business_profile"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_get_post_validation_and_restart(tmp_path, receiver):
    settings = make_settings(receiver.url, state_dir=str(tmp_path / "emulator"))
    app = create_app(settings)
    client = app.test_client()
    try:
        assert client.get(URL).status_code == 401
        assert client.get(URL, headers=AUTH).json == {"data": [{"messaging_product": "whatsapp"}]}

        update = {"messaging_product": "whatsapp", "about": "Zapatos", "websites": ["https://alba.example"],
                  "vertical": "APPAREL", "profile_picture_handle": "4:abc"}
        assert client.post(URL, headers=AUTH, json=update).json == {"success": True}
        # A second update names only the description: the other fields stay.
        assert client.post(URL, headers=AUTH, json={"messaging_product": "whatsapp",
                                                    "description": "Horario"}).status_code == 200
        profile = client.get(URL, headers=AUTH, query_string={"fields": "about,description,websites,email"}).json
        assert profile == {"data": [{"about": "Zapatos", "description": "Horario",
                                     "websites": ["https://alba.example"], "messaging_product": "whatsapp"}]}
        assert client.get(URL, headers=AUTH).json["data"][0]["profile_picture_url"].startswith("https://")

        refusals = [({"about": "x" * 140}, "Param about must be at most 139 characters long."),
                    ({"description": "x" * 513}, "Param description must be at most 512 characters long."),
                    ({"email": "not-an-email"}, "Param email must be a valid email address."),
                    ({"websites": ["https://a.example", "https://b.example", "https://c.example"]},
                     "Param websites must be an array of at most 2 URLs."),
                    ({"vertical": "SHOES"}, "Param vertical must be one of"),
                    ({"colour": "red"}, "Param colour is not a valid business profile field.")]
        for fields, details in refusals:
            answer = client.post(URL, headers=AUTH, json={"messaging_product": "whatsapp", "about": "Nuevo", **fields})
            assert answer.status_code == 400 and answer.json["error"]["code"] == 100
            assert answer.json["error"]["error_data"]["details"].startswith(details)
        missing = client.post(URL, headers=AUTH, json={"about": "Nuevo"})
        assert missing.status_code == 400 and "messaging_product" in missing.json["error"]["error_data"]["details"]
        unknown = client.get(URL, headers=AUTH, query_string={"fields": "about,colour"})
        assert unknown.status_code == 400 and "(colour)" in unknown.json["error"]["message"]
        assert client.get(URL, headers=AUTH).json["data"][0]["about"] == "Zapatos"  # refused = unchanged
    finally:
        app.extensions["whatsapp_emulator"].close()

    app = create_app(settings)
    try:
        assert app.test_client().get(URL, headers=AUTH).json["data"][0]["description"] == "Horario"
    finally:
        app.extensions["whatsapp_emulator"].close()
