"""Fault injection: injected failures never create messages, so retries can be shown not to duplicate."""
from __future__ import annotations

import time

from tests.emulator.conftest import CUSTOMER, wait_for


def sent_messages(emu):
    return emu.client.get(f"{emu.base}/_emulator/messages", params={"to": CUSTOMER}).json()["messages"]


def test_injected_errors_in_order_then_normal_service(emu, receiver):
    emu.customer({"type": "text", "text": "hola"})
    r = emu.client.post(f"{emu.base}/_emulator/faults", json={"next": [
        {"http": 500}, {"http": 429, "code": 130429, "retry_after": 2}, {"code": 131056},
        {"http": 503}]})
    assert r.status_code == 200 and len(r.json()["pending"]) == 4
    results = [emu.send(emu.text("reintento")) for _ in range(5)]
    assert [x.status_code for x in results] == [500, 429, 400, 503, 200]
    assert results[1].headers["Retry-After"] == "2"
    codes = [x.json()["error"]["code"] for x in results[:4]]
    assert codes == [131000, 130429, 131056, 2]
    for x in results[:4]:
        error = x.json()["error"]
        assert error["message"].startswith(f"(#{error['code']})") and error["fbtrace_id"]
    # Four failed attempts and one success: exactly one message reached the customer.
    assert len(sent_messages(emu)) == 1
    assert emu.client.get(f"{emu.base}/_emulator/faults").json()["pending"] == []


def test_faulted_request_creates_nothing_even_if_body_is_valid(emu, receiver):
    emu.client.post(f"{emu.base}/_emulator/faults", json={"next": [{"http": 500, "times": 3}]})
    for _ in range(3):
        assert emu.send(emu.text()).status_code == 500
    time.sleep(0.2)
    assert sent_messages(emu) == []
    assert receiver.statuses() == []


def test_delay_then_success(emu):
    emu.customer({"type": "text", "text": "hola"})
    emu.client.post(f"{emu.base}/_emulator/faults", json={"next": [{"delay_ms": 400}]})
    started = time.monotonic()
    assert emu.send(emu.text()).status_code == 200
    assert time.monotonic() - started >= 0.4
    assert len(sent_messages(emu)) == 1


def test_delay_combined_with_error_lets_client_timeouts_be_tested(emu):
    emu.client.post(f"{emu.base}/_emulator/faults", json={"next": [{"delay_ms": 300, "http": 500}]})
    started = time.monotonic()
    assert emu.send(emu.text()).status_code == 500
    assert time.monotonic() - started >= 0.3
    assert sent_messages(emu) == []


def test_async_fault_is_accepted_then_fails_by_webhook(emu, receiver):
    emu.customer({"type": "text", "text": "hola"})
    emu.client.post(f"{emu.base}/_emulator/faults", json={"next": [{"code": 131026, "async": True}]})
    response = emu.send(emu.text())
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    [failed] = wait_for(lambda: receiver.statuses(wamid), what="failed status")
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131026
    assert failed["errors"][0]["title"] == "Message undeliverable"


def test_faults_can_target_a_recipient_and_skip_receipts_by_default(emu):
    inbound = emu.customer({"type": "text", "text": "hola"})
    emu.client.post(f"{emu.base}/_emulator/faults", json={"next": [{"http": 500, "to": "5215599999999"}]})
    receipt = {"messaging_product": "whatsapp", "status": "read", "message_id": inbound["id"]}
    assert emu.send(receipt).status_code == 200
    assert emu.send(emu.text()).status_code == 200
    assert emu.send(emu.text(to="5215599999999")).status_code == 500
    emu.client.post(f"{emu.base}/_emulator/faults", json={"next": [{"http": 500, "applies_to": "receipts"}]})
    assert emu.send(emu.text()).status_code == 200
    assert emu.send(receipt).status_code == 500


def test_delete_clears_and_bad_specs_are_refused(emu):
    emu.client.post(f"{emu.base}/_emulator/faults", json={"next": [{"http": 500}]})
    assert emu.client.delete(f"{emu.base}/_emulator/faults").json()["pending"] == []
    assert emu.client.post(f"{emu.base}/_emulator/faults", json={"next": [{"htp": 500}]}).status_code == 400
    assert emu.client.post(f"{emu.base}/_emulator/faults", json={"nxt": []}).status_code == 400


def test_reset_forgets_everything(emu, receiver):
    emu.customer({"type": "text", "text": "hola"})
    emu.send(emu.text())
    emu.client.post(f"{emu.base}/_emulator/faults", json={"next": [{"http": 500}]})
    emu.client.post(f"{emu.base}/_emulator/clock", json={"advance_seconds": 100})
    assert emu.client.post(f"{emu.base}/_emulator/reset").json() == {"ok": True}
    assert emu.client.get(f"{emu.base}/_emulator/messages", params={"direction": "in"}).json()["messages"] == []
    assert sent_messages(emu) == []
    assert emu.client.get(f"{emu.base}/_emulator/faults").json()["pending"] == []
    assert emu.client.get(f"{emu.base}/_emulator/clock").json()["offset_seconds"] == 0
    assert emu.client.get(f"{emu.base}/_emulator/customers").json()["customers"] == []
