"""W2 kedro: 8 independent burn nodes + a join node.
runner: seq (SequentialRunner) | par (ParallelRunner, processes, max_workers=2)
        | thread (ThreadRunner, max_workers=2)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import FANOUT, Timer, burn, emit

T0 = time.perf_counter()
from kedro.io import DataCatalog, SharedMemoryDataCatalog
from kedro.pipeline import Pipeline, node
from kedro.runner import ParallelRunner, SequentialRunner, ThreadRunner

T_IMPORT = time.perf_counter() - T0


def work(i):
    return burn(i)


def join(*parts):
    return sum(parts)


def build():
    nodes = [node(work, f"params:i{i}", f"p{i}", name=f"w{i}") for i in range(FANOUT)]
    nodes.append(node(join, [f"p{i}" for i in range(FANOUT)], "total", name="join"))
    return Pipeline(nodes)


if __name__ == "__main__":
    mode = sys.argv[1]
    runner = {
        "seq": lambda: SequentialRunner(),
        "par": lambda: ParallelRunner(max_workers=2),
        "thread": lambda: ThreadRunner(max_workers=2),
    }[mode]()
    catalog = SharedMemoryDataCatalog() if mode == "par" else DataCatalog()
    for i in range(FANOUT):
        catalog[f"params:i{i}"] = i
    pipe = build()
    with Timer() as t:
        out = runner.run(pipe, catalog)
    emit(t_run=t.s, t_import=T_IMPORT)
