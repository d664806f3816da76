"""A sent template enters the Rasa history; while Rasa is down the entry waits and is retried."""
import logging

from connector.outreach.history import BACKOFF, HISTORY_KEY

from .conftest import OPTED_IN


async def test_rasa_down_keeps_the_entry_logs_it_and_appends_it_once_rasa_is_back(order, make_worker, rasa, redis_client, clock, caplog):
    (send,) = order().sends
    rasa.fail_posts = True
    worker = make_worker()
    with caplog.at_level(logging.WARNING, "connector.outreach.history"):
        await worker.drain()
    assert "not yet in" in caplog.text and OPTED_IN not in rasa.events
    assert redis_client.zcard(HISTORY_KEY) == 1 and worker.store.get(send.id).history == "pending"

    rasa.fail_posts = False
    assert await worker.history.flush() == 0  # not before its pause is over
    clock.advance(seconds=BACKOFF[0])
    assert await worker.history.flush() == 1
    (event,) = rasa.events[OPTED_IN]
    assert event["metadata"]["send_id"] == send.id
    assert redis_client.zcard(HISTORY_KEY) == 0 and worker.store.get(send.id).history == "done"
