"""The number's messages-per-second limit: a GCRA in Redis, shared by every process, checked on
a clock we control (the waits it hands out are the schedule; nothing sleeps)."""
import datetime as dt

import pytest

from connector.cloudapi.pacing import Throughput, ThroughputPolicy
from core.clock import FixedClock
from tests.connector.fake_graph import NOON


def schedule(throughput: Throughput, clock: FixedClock, sends: int) -> list[dt.datetime]:
    """When each of `sends` messages asked for at one moment may go."""
    return [clock.now() + dt.timedelta(seconds=throughput.reserve()) for _ in range(sends)]


def test_no_second_holds_more_than_the_limit(redis_client):
    clock = FixedClock(NOON)
    times = schedule(Throughput(redis_client, "123", ThroughputPolicy(mps=80), clock), clock, 400)
    assert times == sorted(times) and times[:8] == [NOON] * 8  # a tenth of a second's worth at once
    second = dt.timedelta(seconds=1)
    busiest = max(sum(1 for t in times if start <= t < start + second) for start in times)
    assert 78 <= busiest <= 80  # close to the limit, never over it
    assert times[-1] - NOON < dt.timedelta(seconds=5.6)  # 72 per second once the burst is spent


def test_shared_by_every_process_of_one_number_and_not_across_numbers(redis_client):
    clock = FixedClock(NOON)
    policy = ThroughputPolicy(mps=2)  # burst 1, then one a second
    first, second = (Throughput(redis_client, "123", policy, clock) for _ in range(2))
    assert first.reserve() == 0.0 and second.reserve() == 1.0 and first.reserve() == 2.0
    assert Throughput(redis_client, "456", policy, clock).reserve() == 0.0
    clock.advance(seconds=10)  # idle time refills it
    assert second.reserve() == 0.0


def test_a_send_that_would_wait_too_long_is_refused(redis_client):
    clock = FixedClock(NOON)
    throughput = Throughput(redis_client, "123", ThroughputPolicy(mps=2, max_wait=3), clock)
    assert [throughput.reserve() for _ in range(5)] == [0.0, 1.0, 2.0, 3.0, None]


def test_configured_from_the_environment():
    assert ThroughputPolicy.from_env({}).mps == 80
    raised = ThroughputPolicy.from_env({"WHATSAPP_THROUGHPUT_MPS": "1000"})
    assert (raised.mps, raised.burst) == (1000, 100)
    with pytest.raises(ValueError):
        ThroughputPolicy.from_env({"WHATSAPP_THROUGHPUT_MPS": "0"})
