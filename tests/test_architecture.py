"""The layers stay where DESIGN.md draws them: checked by reading every module's imports and
calls with ``ast`` (no module is imported, so a broken layer cannot hide behind laziness)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "store")
SQL_VERBS = {"select", "insert", "update", "delete"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, tuple[Path, ast.Module]]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = (path, ast.parse(path.read_text(), str(path)))
    return found


def imports(tree: ast.Module, name: str) -> Iterator[tuple[str, int]]:
    """Every module ``name`` imports, anywhere in it (lazy imports included), with its line."""
    package = name if modules()[name][0].name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            yield base, node.lineno
            for alias in node.names:  # `from bot.slack import listeners` imports a module
                if f"{base}.{alias.name}" in modules():
                    yield f"{base}.{alias.name}", node.lineno


def offenders(where: str, forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for name, (path, tree) in modules().items():
        if name == where or name.startswith(where + "."):
            for target, line in imports(tree, name):
                if target.split(".")[0] in forbidden or target in forbidden or any(
                        target.startswith(f + ".") for f in forbidden):
                    out.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    return out


def test_store_never_imports_the_bot_or_slack() -> None:
    found = offenders("store", ("bot", "slack_bolt", "slack_sdk"))
    # slack-sdk's installation-store table definitions stay as data for Alembic
    assert [f for f in found if "store/slack_tables.py" not in f] == []


def test_use_cases_never_import_slack() -> None:
    assert offenders("bot.core", ("slack_bolt", "slack_sdk", "bot.slack", "bot.cli")) == []


def test_views_are_pure() -> None:
    assert offenders("bot.slack.views", ("slack_bolt", "sqlalchemy", "store.db",
                                         "bot.container", "bot.slack.listeners")) == []


def test_no_sql_outside_store() -> None:
    found = []
    for name, (path, tree) in modules().items():
        if name.startswith("store"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                verbs = SQL_VERBS & {a.name for a in node.names}
                if verbs:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(verbs)}")
            if isinstance(node, ast.ImportFrom) and node.module == "store.models":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} ORM models")
    assert found == []


def test_only_config_reads_the_environment() -> None:
    found = []
    for name, (path, tree) in modules().items():
        if name == "bot.config":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"} and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_no_import_cycles() -> None:
    graph = {name: {t for t, _ in imports(tree, name) if t in modules() and t != name}
             for name, (_, tree) in modules().items()}
    # a package's __init__ re-exporting its own modules is not a cycle between modules
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    seen: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in seen:
                visit(nxt)
        stack.pop()
        seen[node] = 2

    for node in sorted(graph):
        if node not in seen:
            visit(node)
    assert cycles == []


def _is_payload(node: ast.expr | None) -> bool:
    """``SomePayload(...).encode()``, ``x.encode()``, or one of payloads' constants."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "encode"
    return isinstance(node, ast.Name) and node.id.isupper() and (
        node.id.startswith("SETTINGS_") or node.id == "value")


#: bot.slack modules that encode HTTP bodies, not button values or metadata: Bolt's own
#: request shapes, and the response_url poster's JSON body.
WIRE_MODULES = {"bot.slack.bolt_compat", "bot.slack.responses"}


def test_button_values_and_private_metadata_go_through_payloads() -> None:
    found = []
    for name, (path, tree) in modules().items():
        if name == "bot.slack.payloads" or not name.startswith("bot"):
            continue
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(
                    node.func, "attr", None)) == "button" and len(node.args) >= 3:
                value = node.args[2]
                ok = _is_payload(value) or (isinstance(value, ast.Name) and value.id == "value")
                if not ok:
                    found.append(f"{where}:{node.lineno} button value")
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "private_metadata" and \
                            not _is_payload(value):
                        found.append(f"{where}:{node.lineno} private_metadata")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr in {"loads", "dumps"} and \
                    getattr(node.func.value, "id", None) == "json" and \
                    name.startswith("bot.slack") and name not in WIRE_MODULES:
                found.append(f"{where}:{node.lineno} json.{node.func.attr}")
    assert found == []


def _definitions(predicate) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for name, (_, tree) in modules().items():
        for node in ast.walk(tree):
            if predicate(node):
                out.append(f"{name}:{node.lineno}")
    return out


def _defines(function: str):  # type: ignore[no-untyped-def]
    return lambda node: isinstance(node, ast.FunctionDef) and node.name == function


@pytest.mark.parametrize("function", ["visible_in", "visible_clause", "person_key",
                                      "normalize_key", "may_change_quote",
                                      "may_change_settings"])
def test_one_definition_of_each_rule(function: str) -> None:
    assert _definitions(_defines(function)) == [
        f"store.policy:{_line('store.policy', function)}"]


def _line(module: str, function: str) -> int:
    tree = modules()[module][1]
    return next(n.lineno for n in ast.walk(tree)
                if isinstance(n, ast.FunctionDef) and n.name == function)


@pytest.mark.parametrize("word", ["frustrated", "support_ticket"])
def test_one_list_of_emotions_and_of_sources(word: str) -> None:
    """Only store/vocab.py lists the vocabulary (a tuple, list, set or enum naming it)."""
    def lists_it(node: ast.AST) -> bool:
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return sum(isinstance(e, ast.Constant) and e.value in {
                "frustrated", "confused", "delighted", "support_ticket", "interview",
                "survey"} for e in node.elts) >= 2 and any(
                isinstance(e, ast.Constant) and e.value == word for e in node.elts)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            return node.value.value == word
        return False

    assert {d.split(":")[0] for d in _definitions(lists_it)} == {"store.vocab"}
