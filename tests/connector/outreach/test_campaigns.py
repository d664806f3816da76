"""Campaigns: marketing opt-ins only, stopped midway and resumed without a second send, results."""
import datetime as dt

import pytest

from connector.cloudapi.delivery import DeliveryLog
from connector.outreach.campaigns import Campaigns
from connector.outreach.engine import Contact, RequestError
from connector.outreach.store import HELD, REFUSED, SCHEDULED, SENT
from connector.policy.window import ServiceWindow
from tests.connector.fake_graph import FakeGraph

from .conftest import NOT_OPTED_IN, OPTED_IN

PROMO = ["Ana", "20 %", "31 de enero"]


@pytest.fixture
def campaigns(outreach):
    return Campaigns(outreach)


def opted_in(consent, *contacts):
    for contact in contacts:
        consent.record(contact, "marketing", "opted_in", "web_form")
    return list(contacts)


def test_the_register_audience_is_the_marketing_opt_ins_and_a_csv_contact_without_one_is_refused(campaigns, consent):
    consent.record(NOT_OPTED_IN, "transactional", "opted_in", "web_form")  # not enough for marketing
    assert campaigns.audience_from_register() == [OPTED_IN]
    campaign, sends = campaigns.create("Rebajas", "promo_temporada", "es_MX", PROMO,
                                       [Contact(OPTED_IN), Contact(NOT_OPTED_IN), Contact("+" + OPTED_IN)],
                                       None, "lucia")
    assert [(s.to, s.state) for s in sends] == [(OPTED_IN, SCHEDULED), (NOT_OPTED_IN, REFUSED)]
    assert sends[1].reason == "marketing: no opt-in recorded for this contact"
    assert campaigns.results(campaign.id).states == {SCHEDULED: 1, REFUSED: 1}


def test_only_an_approved_marketing_template_makes_a_campaign(campaigns):
    with pytest.raises(RequestError, match="utility template"):
        campaigns.create("x", "order_confirmation", "es_MX", [], [Contact(OPTED_IN)], None, "lucia")
    with pytest.raises(RequestError, match="parameter"):
        campaigns.create("x", "promo_temporada", "es_MX", ["Ana"], [Contact(OPTED_IN)], None, "lucia")
    assert campaigns.all() == []


async def test_a_campaign_stopped_midway_and_resumed_sends_to_each_contact_once(campaigns, consent, make_worker, outreach):
    contacts = opted_in(consent, *[f"52155123403{n:02d}" for n in range(6)])
    campaign, _ = campaigns.create("Rebajas", "promo_temporada", "es_MX", PROMO,
                                   [Contact(c) for c in contacts], None, "lucia")
    graph = FakeGraph()
    worker = make_worker(graph, concurrency=2)
    assert await worker.step() == 2                   # two went…
    assert campaigns.stop(campaign.id, "lucia") == 4  # …the rest are held
    await worker.drain()
    assert campaigns.results(campaign.id).states == {SENT: 2, HELD: 4}

    # Resumed twice (two leads at once): still one send per contact.
    campaigns.resume(campaign.id, "lucia")
    campaigns.resume(campaign.id, "lucia")
    await worker.drain()
    assert sorted(body["to"] for body in graph.accepted) == contacts
    assert campaigns.results(campaign.id).states == {SENT: 6}


async def test_results_count_delivered_read_failed_replies_and_opt_outs_after_the_send(campaigns, consent, make_worker, redis_client, clock):
    contacts = opted_in(consent, *[f"52155123404{n:02d}" for n in range(4)])
    campaign, _ = campaigns.create("Rebajas", "promo_temporada", "es_MX", PROMO,
                                   [Contact(c) for c in contacts], clock.now() + dt.timedelta(hours=1), "lucia")
    clock.advance(hours=1)
    await make_worker().drain()
    sends = {s.contact: s for s in campaigns.sends(campaign.id)}
    delivery = DeliveryLog(redis_client, clock)
    stamp = int(clock.now().timestamp()) + 60
    for contact, status in zip(contacts, ("delivered", "read", "failed", "read")):
        delivery.record_status({"id": sends[contact].wamid, "status": status, "timestamp": stamp})
    clock.advance(minutes=5)
    ServiceWindow(redis_client, clock).record_inbound(contacts[1])                    # answered
    consent.record(contacts[3], "marketing", "opted_out", "template_button", by="customer")  # stopped offers
    results = campaigns.results(campaign.id)
    assert (results.total, results.delivered, results.read, results.failed) == (4, 3, 2, 1)
    assert (results.replied, results.opted_out) == (1, 1)
