"""Prometheus exposition for every process of the product (the connector's Rasa processes, the
ingress, the console): one function, `scrape`, that each web framework wraps in a route.

Where the numbers live:
* Events (webhooks, messages, sends, retries, turns) are counters and histograms defined by the
  module that owns the event (connector/webhook/metrics.py, connector/cloudapi/sender.py,
  connector/inbox/pool.py) and counted in the process where the event happens.
* States (the inbox's backlog and its age, the handoff queue and its wait) live in Redis, so they
  are read from Redis at scrape time by collectors (connector/inbox/metrics.py,
  bot/handoff/metrics.py): one value for the whole deployment, whichever process is scraped,
  never a copy per process that Prometheus would have to de-duplicate.

Several processes: with PROMETHEUS_MULTIPROC_DIR set (the launcher gives every process the same
fresh directory under var/ at each start), prometheus_client's multiprocess mode keeps every
process's counters in memory-mapped files there, and a scrape of ANY process sums the files of
all of them: one scrape gives the host's totals, the counters of a process that died or restarted
included (they stay in the files, as a counter must never go back). Why this mode and not a scrape
per process: the Rasa workers come and go (WORKERS=N, rolling restarts) on ports Prometheus would
have to be told about, and each would need its own target, while the lease design makes them
interchangeable. The price: the files' process_* and python_gc_* metrics are not exported, and
only counters and histograms are kept in processes (gauges come from Redis, above). Scrape one
process per host in this mode, or every sum is doubled. Without the variable (tests, a process run
alone) each process exports its own counters, plus its process_* metrics.

Access: Prometheus endpoints usually sit on an internal network. When METRICS_TOKEN is set, a
scrape must send `Authorization: Bearer <token>` (Prometheus: `authorization: {credentials: …}`);
the ingress faces Meta, so set it there or keep /metrics off the public proxy. No metric carries
customer data: labels are bounded sets (outcomes, statuses, error classes), never a phone
number, a conversation id or a text.
"""
from __future__ import annotations

import hmac
import logging
import os
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping

import redis
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
TOKEN_ENV = "METRICS_TOKEN"
# Latencies from a Redis round trip to a slow Graph API call or a Rasa turn under load.
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Scrape:
    status: int
    body: bytes
    headers: Mapping[str, str]


class RedisCollector:
    """A collector that reads Redis at scrape time. Redis down: its metrics are left out (and
    `absent()` alerts on them) rather than the whole scrape failing with the process metrics."""

    def read(self) -> Iterable[Metric]:
        raise NotImplementedError

    def collect(self) -> Iterator[Metric]:
        try:
            metrics = list(self.read())
        except redis.RedisError as exc:
            logger.warning("metrics: %s not read, Redis unavailable: %s", type(self).__name__, exc)
            return iter(())
        return iter(metrics)


class _ThisProcess:
    """The default registry, as one collector of the scrape's registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def authorized(authorization: str | None, env: Mapping[str, str] = os.environ) -> bool:
    token = env.get(TOKEN_ENV)
    if not token:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def scrape(authorization: str | None, collectors: Iterable[object] = (),
           env: Mapping[str, str] = os.environ) -> Scrape:
    """The answer to GET /metrics: the Prometheus text format, or 401 without the token."""
    if not authorized(authorization, env):
        return Scrape(401, b"metrics need `Authorization: Bearer <METRICS_TOKEN>`\n",
                      {"Content-Type": "text/plain; charset=utf-8", "WWW-Authenticate": 'Bearer realm="metrics"'})
    registry = CollectorRegistry()
    directory = env.get(MULTIPROC_ENV)
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ThisProcess())
    for collector in collectors:
        registry.register(collector)
    return Scrape(200, generate_latest(registry), {"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})

