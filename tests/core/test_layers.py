"""The folder layout is the architecture: every package imports only the layers below it.

This is the one place the layering is written down as code (docs/DESIGN.md explains it). A new
import that goes upward, or sideways between apps, fails here with the file and the line.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lowest first. A package may import itself and what is listed for it, nothing else of ours.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "connector.policy": {"core"},
    "connector.cloudapi": {"core", "connector.policy"},
    "connector.inbox": {"core"},
    "connector.webhook": {"core", "connector.policy", "connector.cloudapi", "connector.inbox"},
    # The assistant; its content checks use WhatsApp's limits from their one owner.
    "bot": {"core", "connector.cloudapi"},
    "connector.channel": {"core", "connector.policy", "connector.cloudapi", "connector.inbox",
                          "connector.webhook", "bot"},
    # Business-initiated sends; recipients come from the webhook's identity map.
    "connector.outreach": {"core", "connector.policy", "connector.cloudapi", "connector.webhook"},
    # The webhook's own process: no Rasa, so nothing of the channel or the assistant.
    "connector.ingress": {"core", "connector.policy", "connector.cloudapi", "connector.webhook", "connector.inbox"},
    "actions": {"core", "bot"},
    "console": {"core", "bot", "connector.policy", "connector.cloudapi", "connector.outreach"},
    # Plays Meta: shares nothing with the connector it tests, so it cannot agree with it by accident.
    "emulator": {"core"},
    # bench/durability_bench.py drives the real webhook handler in-process; the Graph stand-in
    # signs and shapes its webhooks with the emulator's builders (Meta's side).
    "bench": {"core", "bot", "emulator", "connector.cloudapi", "connector.webhook"},
    "ops": {"core", "bot", "connector.policy", "connector.cloudapi", "connector.inbox",
            "connector.webhook", "connector.channel", "connector.outreach", "connector.ingress",
            "actions", "console", "emulator"},
}
OURS = {name.split(".")[0] for name in ALLOWED} | {"tests"}


def _layer(module: str) -> str | None:
    """The most specific layer a dotted module name belongs to."""
    best = None
    for name in ALLOWED:
        if module == name or module.startswith(name + "."):
            if best is None or len(name) > len(best):
                best = name
    return best


def _imports(path: Path, module: str):
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # `from connector import x` may name a subpackage
                yield node.lineno, f"{target}.{alias.name}"


def _violations():
    for top in sorted({name.split(".")[0] for name in ALLOWED}):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
            own = _layer(module)
            for line, target in _imports(path, module):
                if target.split(".")[0] not in OURS:
                    continue
                theirs = _layer(target)
                if theirs is None:
                    # `from connector import x` where x is a module: judged by its full name.
                    if target.split(".")[0] == "tests":
                        yield f"{path.relative_to(ROOT)}:{line} imports the tests ({target})"
                    continue
                if theirs != own and theirs not in ALLOWED[own]:
                    yield f"{path.relative_to(ROOT)}:{line} ({own}) imports {target} ({theirs})"


def test_no_package_imports_a_layer_above_it():
    assert list(_violations()) == []


def test_every_package_has_a_layer():
    """A new top-level package must be placed in the layering before it can be imported."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "models", "data"}
    assert packages <= {name.split(".")[0] for name in ALLOWED}
    subpackages = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "connector").glob("*/__init__.py")}
    assert subpackages <= set(ALLOWED)


def test_the_check_sees_an_upward_import(tmp_path):
    """Guard for the guard: an upward import is reported."""
    bad = tmp_path / "x.py"
    bad.write_text("from console.users import UserStore\nfrom .. import y\n")
    found = list(_imports(bad, "bot.content.x"))
    assert (1, "console.users") in found
    assert _layer("console.users") == "console" and "console" not in ALLOWED["bot"]
