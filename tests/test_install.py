"""scripts/install.sh, which README step 1 runs: CPU-only torch on Linux before voicebot,
pinned as pyproject.toml pins it. Run here against a stand-in pip that records its calls
(no network, no real install)."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "install.sh"

FAKE_PYTHON = """#!/bin/sh
# stands in for python3: passes the version check, makes a venv whose pip logs its calls
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin"
    printf '#!/bin/sh\\nexit 0\\n' > "$3/bin/python"
    cat > "$3/bin/pip" <<'PIP'
#!/bin/sh
echo "$*" >> "$PIP_LOG"
case "$*" in *--no-index*) exit "${LOCAL_WHEEL_MISSING:-0}";; esac
exit 0
PIP
    chmod +x "$3/bin/python" "$3/bin/pip"
fi
exit 0
"""


def test_the_torch_pin_is_the_one_in_pyproject() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [d for d in deps if d.startswith("torch")]
    assert f'TORCH="{pin}"' in SCRIPT.read_text()


def test_readme_step_one_runs_the_script() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "scripts/install.sh && .venv/bin/voicebot demo" in readme
    assert re.search(r"^\.venv/bin/python -m pytest$", readme, re.M)


def _run(tmp_path: Path, **env: str) -> list[str]:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "scripts" / "install.sh")
    fake = tmp_path / "python3"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    log = tmp_path / "pip.log"
    done = subprocess.run(["sh", str(repo / "scripts" / "install.sh")], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHON": str(fake),
                                                      "PIP_LOG": str(log), **env})
    assert done.returncode == 0, done.stderr
    return log.read_text().splitlines()


@pytest.mark.skipif(platform.system() != "Linux", reason="the CPU-only torch step is Linux's")
def test_linux_takes_a_local_torch_wheel_when_pip_has_one(tmp_path: Path) -> None:
    calls = _run(tmp_path)
    assert calls == ["install --no-index --no-deps torch==2.13.0", "install -e .[dev]"]


@pytest.mark.skipif(platform.system() != "Linux", reason="the CPU-only torch step is Linux's")
def test_linux_otherwise_installs_torch_from_the_cpu_index_first(tmp_path: Path) -> None:
    calls = _run(tmp_path, LOCAL_WHEEL_MISSING="1")
    assert calls == ["install --no-index --no-deps torch==2.13.0",
                     "install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu",
                     "install -e .[dev]"]


def test_an_old_python_is_refused_in_one_line(tmp_path: Path) -> None:
    old = tmp_path / "python3"
    old.write_text("#!/bin/sh\nexit 1\n")  # fails the version check
    old.chmod(0o755)
    done = subprocess.run(["sh", str(SCRIPT)], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, env={**os.environ, "PYTHON": str(old)})
    assert done.returncode == 1
    assert done.stderr.strip() == f"voicebot needs Python 3.11 or newer; run " \
                                  f"PYTHON=python3.11 {SCRIPT}"
