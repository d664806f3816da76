"""Our sender against the emulator's injected faults: retried until delivered, never twice.

The sender is production code (connector/cloudapi/sender.py); the emulator refuses a faulted request
without storing a message, as Meta does, so "exactly one message arrived" proves no duplicate.
"""
from __future__ import annotations

import pytest

from core.clock import SYSTEM_CLOCK
from connector.policy.window import ServiceWindow
from connector.cloudapi import errors, messages
from connector.cloudapi.config import GraphTarget
from connector.cloudapi.delivery import DeliveryLog
from connector.cloudapi.sender import CloudSender, RetryPolicy

from .conftest import CUSTOMER, PHONE_ID, TOKEN


async def no_wait(seconds: float) -> None:
    """Backoff delays are the policy's business (unit-tested); here only the outcome matters."""


@pytest.fixture
def sender(emu, redis_client):
    emu.customer({"type": "text", "text": "hola"})  # opens the window on the emulator's side
    ServiceWindow(redis_client).record_inbound(CUSTOMER)  # ... and on ours
    target = GraphTarget(TOKEN, PHONE_ID, api_version="v23.0", graph_url=emu.base)
    return CloudSender(target, redis_client, SYSTEM_CLOCK, sleep=no_wait, retry=RetryPolicy(attempts=5))


def received(emu) -> list[dict]:
    return emu.client.get(f"{emu.base}/_emulator/messages", params={"to": CUSTOMER}).json()["messages"]


async def test_transient_faults_are_retried_into_exactly_one_message(emu, sender):
    faults = [{"http": 500}, {"http": 429}, {"http": 400, "code": 130429}, {"http": 400, "code": 131056}]
    assert emu.client.post(f"{emu.base}/_emulator/faults", json={"next": faults}).status_code == 200
    wamid = await sender.send(CUSTOMER, messages.text_bodies(CUSTOMER, "¡Hola! ¿En qué te ayudo?")[0])
    (message,) = received(emu)
    assert message["id"] == wamid
    assert message["body"]["text"]["body"] == "¡Hola! ¿En qué te ayudo?"
    await sender.aclose()


async def test_permanent_error_is_not_retried_and_is_recorded_for_people(emu, sender, redis_client):
    faults = [{"http": 400, "code": 131026}]
    emu.client.post(f"{emu.base}/_emulator/faults", json={"next": faults})
    with pytest.raises(errors.PermanentError):
        await sender.send(CUSTOMER, messages.text_bodies(CUSTOMER, "hola")[0])
    assert received(emu) == []
    (failure,) = DeliveryLog(redis_client).failures(CUSTOMER)
    assert str(failure["code"]) == "131026"
    await sender.aclose()


async def test_faults_that_outlast_the_retries_end_in_one_recorded_failure(emu, sender, redis_client):
    emu.client.post(f"{emu.base}/_emulator/faults", json={"next": [{"http": 503, "times": 5}]})
    with pytest.raises(errors.RetryableError):
        await sender.send(CUSTOMER, messages.text_bodies(CUSTOMER, "hola")[0])
    assert received(emu) == []
    assert len(DeliveryLog(redis_client).failures(CUSTOMER)) == 1
    await sender.aclose()
