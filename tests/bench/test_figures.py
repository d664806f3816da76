"""The throughput benchmark's arithmetic: which reply answers which message, what counts as lost,
duplicated or out of order, percentiles and rates; the profile's buckets; the goals table."""
from __future__ import annotations

from bench import figures
from bench.cpu_profile import OTHER, bucket, fold
from bench.figures import Sent
from bench.graph_standin import Arrival
from bench.table import goals_table


def _sent(wa_id: str, wamid: str, posted: float, acked: float | None = None, status: int | None = 200) -> Sent:
    return Sent(wa_id, wamid, "pregunta", posted=posted, acked=posted + 0.01 if acked is None else acked, status=status)


def _read(at: float, wamid: str) -> Arrival:
    return Arrival(at, "read", None, wamid, None, 200)


def _msg(at: float, to: str, text: str, status: int = 200) -> Arrival:
    return Arrival(at, "message", to, f"wamid.OUT{at}", f'{{"text": "{text}"}}', status)


def test_replies_between_receipts_answer_the_message_read_first():
    sent = [_sent("1", "in-a", 0.0), _sent("1", "in-b", 0.5)]
    arrivals = [_read(1.0, "in-a"), _msg(1.2, "1", "answer a"), _msg(1.3, "1", "follow-up"),
                _read(2.0, "in-b"), _msg(2.4, "1", "answer b")]
    matched = figures.match_replies(sent, arrivals)
    assert matched.answered == {"in-a": 1.2, "in-b": 2.4}
    assert (matched.lost, matched.duplicates, matched.out_of_order) == ([], 0, 0)
    assert figures.end_to_end(sent, matched) == [1.2, 1.9]


def test_a_reply_without_a_receipt_answers_the_customers_first_message():
    matched = figures.match_replies([_sent("1", "in-a", 0.0)], [_msg(0.8, "1", "answer")])
    assert matched.answered == {"in-a": 0.8}


def test_a_message_without_reply_is_lost_and_a_refused_send_is_no_reply():
    sent = [_sent("1", "in-a", 0.0), _sent("2", "in-b", 0.0)]
    matched = figures.match_replies(sent, [_msg(1.0, "1", "answer"), _msg(1.0, "2", "answer", status=500)])
    assert matched.lost == ["in-b"]


def test_a_webhook_refused_by_the_receiver_is_not_counted_lost():
    sent = [_sent("1", "in-a", 0.0, status=503), _sent("2", "in-b", 0.0, status=None)]
    assert figures.match_replies(sent, []).lost == []


def test_the_same_content_twice_to_one_customer_is_a_duplicate():
    sent = [_sent("1", "in-a", 0.0), _sent("2", "in-b", 0.0)]
    arrivals = [_msg(1.0, "1", "answer"), _msg(1.5, "1", "answer"), _msg(1.0, "2", "answer")]
    assert figures.match_replies(sent, arrivals).duplicates == 1


def test_receipts_in_another_order_than_the_posts_are_out_of_order():
    sent = [_sent("1", "in-a", 0.0), _sent("1", "in-b", 0.1), _sent("2", "in-c", 0.0)]
    arrivals = [_read(1.0, "in-b"), _msg(1.1, "1", "b"), _read(2.0, "in-a"), _msg(2.1, "1", "a"),
                _read(1.0, "in-c"), _msg(1.1, "2", "c")]
    assert figures.match_replies(sent, arrivals).out_of_order == 1


def test_percentiles_rates_and_acks():
    assert figures.percentile([], 99) is None
    assert figures.percentile([1, 2, 3, 4], 50) == 2.5
    assert figures.summary_ms([0.010, 0.020, 0.030]) == {"p50_ms": 20.0, "p99_ms": 29.8, "n": 3}
    sent = [_sent("1", "a", 0.0, acked=0.5), _sent("2", "b", 1.0, acked=2.0), _sent("3", "c", 1.0, status=500)]
    assert figures.acks(sent) == [0.5, 1.0]
    assert figures.ack_rate(sent) == 1.0  # two acks from 0.0 to 2.0
    matched = figures.Matched(answered={"a": 3.0, "b": 4.0})
    assert figures.rate(sent, matched) == 0.5  # two answers from 0.0 to 4.0


def test_a_synchronous_channels_answer_is_the_turn_done_even_without_replies():
    sent = [_sent("1", "a", 0.0, acked=0.3), _sent("2", "b", 0.0, acked=0.4), _sent("3", "c", 0.0, status=500)]
    sent[0].replies = 2
    matched = figures.synchronous_replies(sent)
    assert (matched.answered, matched.lost) == ({"a": 0.3, "b": 0.4}, [])


def test_a_sample_goes_to_the_first_bucket_any_of_its_frames_matches():
    tracker = ["run (connector/inbox/pool.py:10)", "save (rasa/core/tracker_store.py:5)",
               "_read_from_socket (redis/connection.py:9)"]
    assert bucket(tracker).startswith("tracker store")
    ours = ["run (connector/inbox/pool.py:10)", "claim (connector/inbox/queue.py:5)", "execute (redis/client.py:9)"]
    assert bucket(ours) == "Redis client"
    nlu = ["handle (connector/channel/turns.py:1)", "parse (rasa/core/processor.py:2)", "process (bot/nlu/classifier.py:3)"]
    assert bucket(nlu) == "NLU"
    action = ["run (rasa/core/actions/action.py:1)", "_validate_action_result (rasa/core/actions/action.py:704)",
              "iter_errors (jsonschema/validators.py:288)"]
    assert bucket(action) == "action server round trip"
    assert bucket(["select (selectors.py:469)"]) == OTHER


def test_fold_gives_shares_of_samples_and_the_top_functions():
    folded = fold(["a (connector/inbox/pool.py:1);b (redis/client.py:2) 3", "c (asyncio/events.py:80) 1", ""])
    assert folded["samples"] == 4
    assert folded["buckets"] == [("Redis client", 75.0), (OTHER, 25.0)]
    assert folded["functions"][0] == ("b (redis/client.py)", 75.0)


def _phase(rate, p99_ack, p99_e2e, lost=0):
    summary = lambda p99: {"p50_ms": p99 / 2, "p99_ms": p99, "n": 10}
    return {"messages_per_s": rate, "ack": summary(p99_ack), "end_to_end": summary(p99_e2e), "lost": lost,
            "duplicates": 0, "out_of_order": 0, "rate": rate}


def test_the_goals_table_says_met_or_the_distance():
    report = {
        "date": "2026-12-01T20:00:00+00:00", "commit": "abc123",
        "machine": {"cpus": 2, "cpu_model": "AMD EPYC", "load_average_at_start": [1.0, 1.0, 1.0]},
        "ours": {"webhooks_to": "ingress",
                 "latencies": {"0": {"burst": _phase(300, 20, 900), "half_load": _phase(150, 20, 500)},
                               "250": {"burst": _phase(100, 20, 900), "half_load": _phase(50, 20, 2000)}},
                 "ingest": {"acks_per_s": 1500, "ack": {"p50_ms": 5, "p99_ms": 30}},
                 "memory_mb": {"total": 400, "rasa": 380, "redis": 20},
                 "status_webhooks": {"sent": 30, "failed": 0}},
        "stock": {"burst": _phase(73, 500, 500), "half_load": _phase(36, 300, 300), "memory_mb": {"total": 1000}},
    }
    rows = {line.split(" | ")[0].strip("| "): line for line in goals_table(report).splitlines() if line.startswith("|")}
    assert rows["messages/s, Graph at 0 ms"].endswith("met (4.11× stock) |")
    assert "**not met**: 33% of 0 ms" in rows["messages/s, Graph at 250 ms"]
    assert "**not met**: p99 2.0× the limit" in rows["end to end p50 / p99 at half load (50.0/s), Graph 250 ms"]
    assert rows["lost / duplicates / out of order (webhooks refused)"].endswith("met |")
    assert "met (0.40× stock)" in rows["memory, RSS of all processes (peak)"]
    assert rows["ingest ceiling: acks/s (p99 ack)"].endswith("met |")


def test_messages_posted_at_once_have_no_order_to_keep():
    sent = [_sent("1", "in-a", 0.0, acked=0.2), _sent("1", "in-b", 0.1, acked=0.2)]
    arrivals = [_read(1.0, "in-b"), _msg(1.1, "1", "b"), _read(2.0, "in-a"), _msg(2.1, "1", "a")]
    assert figures.match_replies(sent, arrivals).out_of_order == 0


def test_one_answer_to_two_messages_of_a_customer_is_no_duplicate():
    sent = [_sent("1", "in-a", 0.0), _sent("1", "in-b", 0.5)]
    arrivals = [_read(1.0, "in-a"), _msg(1.2, "1", "same answer"), _read(2.0, "in-b"), _msg(2.4, "1", "same answer")]
    assert figures.match_replies(sent, arrivals).duplicates == 0


def test_a_send_is_split_into_its_http_and_its_bookkeeping():
    http = ["send (connector/cloudapi/sender.py:1)", "_post (connector/cloudapi/sender.py:2)",
            "post (httpx/_client.py:3)", "handle_async_request (connector/cloudapi/transport.py:4)"]
    assert bucket(http) == "sends: HTTP to the Graph API"
    window = ["send (connector/cloudapi/sender.py:1)", "status (connector/policy/window.py:2)",
              "execute (redis/client.py:9)"]
    assert bucket(window) == "Redis client"
    pacing = ["send (connector/cloudapi/sender.py:1)", "reserve (connector/cloudapi/pacing.py:2)"]
    assert bucket(pacing) == "sends: window, pacing, records"
    assert bucket(["data_received (aiohttp/client_proto.py:1)"]).startswith("aiohttp callbacks")
