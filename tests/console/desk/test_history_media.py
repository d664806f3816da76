"""Files in the history: the customer's (the connector's facts) and the agent's (bot_media_event)."""
from console.desk.history import MediaRef, messages_from_tracker
from core.rasa_api import bot_media_event


def test_a_customers_photo_and_an_agents_pdf_are_media_with_their_captions():
    tracker = {"events": [
        {"event": "user", "text": '/media_received{"media_kind":"image"}', "metadata": {"whatsapp": {
            "kind": "image", "text": "me llegó así", "media": {
                "kind": "image", "id": "111", "mime_type": "image/jpeg", "caption": "me llegó así"}}}},
        bot_media_event("document", "222", "ana", mime_type="application/pdf", file_size=2048,
                        filename="factura.pdf", caption="Tu factura"),
    ]}
    customer, agent = messages_from_tracker(tracker)
    assert (customer.kind, customer.text) == ("customer", "me llegó así")
    assert customer.media == MediaRef("image", "111", "image/jpeg")
    assert (agent.kind, agent.agent, agent.text) == ("agent", "ana", "Tu factura")
    assert agent.media == MediaRef("document", "222", "application/pdf", "factura.pdf", 2048)
