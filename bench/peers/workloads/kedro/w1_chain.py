"""W1 kedro: chain of N no-op nodes, MemoryDatasets, SequentialRunner (in-process API)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import Timer, emit

T0 = time.perf_counter()
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner

T_IMPORT = time.perf_counter() - T0


def step(x):
    return x + 1


def first():
    return 1


if __name__ == "__main__":
    n = int(sys.argv[1])
    with Timer() as tb:
        nodes = [node(first, None, "d0", name="s0")]
        nodes += [node(step, f"d{i - 1}", f"d{i}", name=f"s{i}") for i in range(1, n)]
        pipe = Pipeline(nodes)
        catalog = DataCatalog({f"d{n - 1}": MemoryDataset()})
    with Timer() as t:
        out = SequentialRunner().run(pipe, catalog)
    assert catalog[f"d{n - 1}"].load() == n
    emit(t_run=t.s, t_build=tb.s, t_import=T_IMPORT)
