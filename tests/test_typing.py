"""bot/ and store/ type-check (mypy, configured in pyproject.toml: strict on store/), and every
``# type: ignore`` left in them names its error code and says why."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: What .ci/run runs (``.venv/bin/python -m mypy``); pyproject.toml's [tool.mypy] picks the files.
MYPY_ARGS = ("-m", "mypy")
CI_COMMAND = ".venv/bin/python " + " ".join(MYPY_ARGS)
IGNORE = re.compile(r"type:\s*ignore\b(?P<rest>.*)")
#: ``[code, code]``, then at least one space, ``#`` and a reason.
EXPLAINED = re.compile(r"\[[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*\]\s+#\s*\S")


def test_ci_runs_mypy_this_way() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert CI_COMMAND in (line.strip() for line in lines)


def test_mypy_is_clean() -> None:
    pytest.importorskip("mypy")  # a dev dependency: missing only outside `pip install .[dev]`
    proc = subprocess.run([sys.executable, *MYPY_ARGS], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def ignores() -> list[tuple[str, str, str]]:
    """Every ``type: ignore`` comment in bot/ and store/: where, the comment, and what
    follows ``type: ignore`` in it."""
    found = []
    for package in ("bot", "store"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
            for tok in tokens:
                if tok.type == tokenize.COMMENT and (match := IGNORE.search(tok.string)):
                    found.append((f"{path.relative_to(ROOT)}:{tok.start[0]}", tok.string,
                                  match.group("rest")))
    return found


def test_every_type_ignore_has_a_code_and_a_reason() -> None:
    unexplained = [f"{where}: {comment}" for where, comment, rest in ignores()
                   if not EXPLAINED.match(rest)]
    assert unexplained == []


@pytest.mark.parametrize("comment, ok", [
    ("# type: ignore", False),
    ("# type: ignore[arg-type]", False),
    ("# type: ignore[arg-type] # ", False),
    ("# type: ignore  # faiss", False),
    ("# type: ignore[arg-type]  # faiss stubs want an IDSelector", True),
    ("# type: ignore[no-untyped-def, override]  # Bolt calls it with keywords", True),
])
def test_the_check_itself(comment: str, ok: bool) -> None:
    rest = IGNORE.search(comment)
    assert rest is not None
    assert bool(EXPLAINED.match(rest.group("rest"))) is ok
