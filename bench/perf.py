#!/usr/bin/env python
"""Launcher: ``python bench/perf.py [options]`` is ``python -m bench.perf [options]``.

The benchmark lives in the package bench/perf/ (one module per benchmark); see its
``__init__`` for what it measures, or run with ``--help``.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.perf.__main__ import main  # noqa: E402  (the package, not this file)

if __name__ == "__main__":
    sys.exit(main(prog="python bench/perf.py"))
