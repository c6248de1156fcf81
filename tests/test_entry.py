"""The entry points, `python -m cuisineflow` and the `cuisineflow` console script."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]

# Installed as sitecustomize: a real SIGINT, sent to the process itself while `typer` is
# being imported (the first heavy import of the CLI), so that the interrupt lands in the
# imports at the same point on every run.
INTERRUPT_IN_IMPORTS = """
import os, signal, sys

class InterruptOnImport:
    def find_spec(self, name, path=None, target=None):
        if name == "typer":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, InterruptOnImport())
"""


def console_script() -> str:
    """What the installed `cuisineflow` script runs, from pyproject.toml's entry point."""
    target = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["scripts"]
    module, function = target["cuisineflow"].split(":")
    return f"import sys\nfrom {module} import {function}\nsys.exit({function}())\n"


@pytest.mark.parametrize("entry", ["module", "script"])
def test_a_ctrl_c_while_the_cli_starts_exits_quietly_with_130(entry: str, tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(INTERRUPT_IN_IMPORTS)
    source = os.environ.get("PYTHONPATH", "")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), source]))}
    command = ["-m", "cuisineflow"] if entry == "module" else ["-c", console_script()]
    interrupted = subprocess.run(
        [sys.executable, *command, "--version"],
        env=env, capture_output=True, text=True, cwd=PROJECT, timeout=60,
    )  # fmt: skip
    assert (interrupted.returncode, interrupted.stdout, interrupted.stderr) == (130, "", "")
    # Without the interrupt, the same command runs.
    (tmp_path / "sitecustomize.py").unlink()
    shown = subprocess.run(
        [sys.executable, *command, "--version"],
        env=env, capture_output=True, text=True, cwd=PROJECT, check=True,
    )  # fmt: skip
    assert shown.stdout.startswith("cuisineflow ")


def test_a_ctrl_c_that_reaches_the_entry_point_later_exits_130_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cuisineflow.cli
    from cuisineflow.__main__ import run

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cuisineflow.cli, "main", interrupted)
    with pytest.raises(SystemExit) as stopped:
        run()
    assert stopped.value.code == 128 + signal.SIGINT
