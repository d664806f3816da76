"""Reading a /metrics answer as Prometheus does (prometheus_client's own parser)."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """(sample name, its labels) → value, for every sample of the text format."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value; 0 when absent (a labelled counter appears once it first counts)."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)
