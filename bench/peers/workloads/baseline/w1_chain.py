"""W1 baseline: plain Python, a chain of N no-op function calls (mode 'call'),
or N sequential `python -c pass` children (mode 'proc': the floor for any
process-per-step design)."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import Timer, emit


def step(x):
    return x + 1


if __name__ == "__main__":
    n = int(sys.argv[1])
    mode = sys.argv[2] if len(sys.argv) > 2 else "call"
    with Timer() as t:
        x = 0
        for _ in range(n):
            if mode == "proc":
                subprocess.run([sys.executable, "-c", "pass"], check=True)
                x += 1
            else:
                x = step(x)
    assert x == n
    emit(t_run=t.s)
