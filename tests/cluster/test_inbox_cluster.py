"""connector/inbox/queue.py on a real Redis Cluster: the same results as on one Redis."""
from __future__ import annotations

from connector.inbox.queue import SHARDS, Ingest, lease_key, shard_of

from tests.connector.inbox.support import message


def _scenario(client) -> list:
    ingest = Ingest(client)
    convs = [f"3460{i}" for i in range(6)]
    log = []
    for conv in convs:
        for n in range(2):
            m = message(conv, f"wamid.{conv}.{n}")
            log.append(ingest.enqueue(conv, m.wamid, m.envelope))
    m = message(convs[0], f"wamid.{convs[0]}.0")
    log.append(ingest.enqueue(convs[0], m.wamid, m.envelope))  # a redelivery
    claimed = sorted(c for c in (ingest.claim(f"w:{i}") for i in range(8)) if c)
    log.append(claimed)
    for i, conv in enumerate(claimed):
        owner = client.get(lease_key(conv))
        item = ingest.head(conv)
        log.append((conv, ingest.mark_started(conv, item.wamid), ingest.renew(conv, owner)))
        if i % 3 == 0:
            log.append(ingest.complete(conv, owner, item))
        elif i % 3 == 1:
            log.append(ingest.give_back(conv, owner))
        else:
            log.append(ingest.dead_letter(conv, owner, item.raw, item.wamid, "poison", 1))
        log.append((ingest.state(item.wamid), ingest.state(item.wamid, conv), ingest.attempts(conv, item.wamid)))
    held = ingest.claim("w:dies")
    client.delete(lease_key(held))  # what its TTL does once its holder died
    log.append(ingest.recover())
    log.append(sorted(c for c in (ingest.claim(f"w2:{i}") for i in range(8)) if c))
    log.append([(d["conv"], d["wamid"], d["reason"]) for d in ingest.dead()])
    log.append(sorted(ingest.pending(conv) for conv in convs))
    return log, claimed


def test_the_queue_runs_on_a_cluster_as_on_one_redis(redis_client, cluster_client):
    assert len({shard_of(f"3460{i}") for i in range(6)}) > 1 and SHARDS > 3
    on_cluster = _scenario(cluster_client)
    assert on_cluster == _scenario(redis_client)
    log, claimed = on_cluster
    assert claimed == [f"3460{i}" for i in range(6)] and log[-4] == 1  # recovered the dead holder's
