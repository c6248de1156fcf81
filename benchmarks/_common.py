"""What the benchmark scripts share: running a child process and saying why it failed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from typing import Any

TAIL_CHARACTERS = 2000


def tail(text: str) -> str:
    """The end of a process's output: where its error is."""
    return text[-TAIL_CHARACTERS:].strip()


def run_child(
    command: Sequence[str], what: str, **options: Any
) -> subprocess.CompletedProcess[str]:
    """Run a command, its output captured as text; if it fails, print the end of its stderr
    and exit with one line naming what failed and the child's last line (its `error: ...`)."""
    done = subprocess.run(list(command), capture_output=True, text=True, **options)
    if done.returncode != 0:
        stderr = tail(done.stderr)
        if stderr:
            print(stderr, file=sys.stderr)
        last = stderr.splitlines()[-1].strip() if stderr else "no message"
        sys.exit(f"{what} failed (exit status {done.returncode}): {last}")
    return done
