"""Shared constants and helpers for every peer's workload scripts.

All workload scripts import this module (it is stdlib-only) so that the work
each step does is byte-for-byte the same whichever tool orchestrates it.
"""

import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)  # .../bench/peers
RUNS = os.environ.get("BENCH_RUNS_DIR", os.path.join(ROOT, "runs"))

# W2: iterations of the pure-Python loop; about 0.5 s on the 2-core reference
# machine (Python 3.11). Fixed, not calibrated per run, so results are
# comparable across tools and across days (the baseline row shows its cost).
BURN_ITERS = int(os.environ.get("BENCH_BURN_ITERS", "9300000"))
FANOUT = 8

# W3: 100 MiB, incompressible; BENCH_PAYLOAD_MB=1024 gives the 1 GiB variant, whose tool
# stores live in runs/<peer>-1024mb so both variants can sit side by side.
PAYLOAD_MB = int(os.environ.get("BENCH_PAYLOAD_MB", "100"))
PAYLOAD_BYTES = PAYLOAD_MB * 1024 * 1024
SLEEP_PRE, SLEEP_TRAIN, SLEEP_EVAL = 1.0, 0.5, 0.2


def burn(i=0, mode=None):
    """~0.5 s of CPU. mode 'inproc': pure-Python loop in this process (holds
    the GIL); 'subproc': the same loop in a fresh `python -c` child."""
    mode = mode or os.environ.get("BURN_MODE", "inproc")
    if mode == "subproc":
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                # same loop inside a function (fast locals), as in the in-process branch
                f"def f():\n s=0\n for k in range({BURN_ITERS}): s+=k*k\n return s\nprint(f())",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return int(out) + i
    s = 0
    for k in range(BURN_ITERS):
        s += k * k
    return s + i


def make_payload():
    rng = random.Random(0)
    chunk = 100 * 1024 * 1024  # randbytes() of more than 256 MiB overflows a C int
    if PAYLOAD_BYTES <= chunk:
        return rng.randbytes(PAYLOAD_BYTES)
    return b"".join(rng.randbytes(min(chunk, PAYLOAD_BYTES - i)) for i in range(0, PAYLOAD_BYTES, chunk))


def store_dir(peer):
    """Where a peer keeps its W3 state for the current payload size."""
    return os.path.join(RUNS, peer if PAYLOAD_MB == 100 else f"{peer}-{PAYLOAD_MB}mb")


def dir_bytes(path):
    """Apparent size of all regular files under path (hard links counted once)."""
    seen, total = set(), 0
    for dp, _dn, fns in os.walk(path):
        for fn in fns:
            try:
                st = os.lstat(os.path.join(dp, fn))
            except FileNotFoundError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


def emit(**fields):
    """The one machine-readable line the harness parses from a workload."""
    print("BENCH " + json.dumps(fields), flush=True)


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *a):
        self.s = time.perf_counter() - self.t0


# W5: one layered DAG for every tool: BIG_STEPS steps in layers of BIG_WIDTH, each step after
# the first layer with 1..4 parents drawn from the layer above (fixed seed: same DAG everywhere).
BIG_STEPS, BIG_WIDTH, BIG_MAX_PARENTS = 5000, 50, 4


def layered_dag(n=BIG_STEPS, width=BIG_WIDTH, max_parents=BIG_MAX_PARENTS, seed=0):
    """[(name, [parent names])] in topological order."""
    rng = random.Random(seed)
    dag, layer_above = [], []
    for start in range(0, n, width):
        layer = [f"n{i}" for i in range(start, min(start + width, n))]
        for name in layer:
            k = rng.randint(1, max_parents) if layer_above else 0
            dag.append((name, sorted(rng.sample(layer_above, k))))
        layer_above = layer
    return dag


def rerun_selection(dag):
    """The steps a selective re-run picks: the first step of the middle layer and everything
    downstream of it (closed under paths, as SageMaker requires)."""
    start = dag[(len(dag) // BIG_WIDTH // 2) * BIG_WIDTH][0]
    children = {}
    for name, parents in dag:
        for p in parents:
            children.setdefault(p, []).append(name)
    selected, todo = {start}, [start]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in selected:
                selected.add(c)
                todo.append(c)
    return start, [name for name, _ in dag if name in selected]


# W6: processing jobs per run, each one run of harness/processing_job.py.
JOBS = 10
PROCESSING_SCRIPT = os.path.join(HERE, "processing_job.py")
