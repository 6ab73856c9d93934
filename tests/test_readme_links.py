"""README.md's promises name the tests that keep them: those files and tests exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_test_the_readme_names_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## What and why"):readme.index("## Bringing voices in")]
    files = set(re.findall(r"\((tests/test_\w+\.py)\)", section))
    names = set(re.findall(r"`(test_\w+)`", section))
    assert files and names
    sources = ""
    for name in files:
        path = ROOT / name
        assert path.is_file(), name
        sources += path.read_text()
    missing = [n for n in names if f"def {n}(" not in sources]
    assert missing == []
