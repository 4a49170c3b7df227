"""W5 kedro: build + validate the 5,000-step layered DAG (common.layered_dag) as a
Pipeline of nodes (the constructor checks names, outputs and cycles while sorting), then
plan the selective re-run: Pipeline.from_nodes(<mid step>) (= `kedro run --from-nodes`)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import Timer, emit, layered_dag, rerun_selection

T0 = time.perf_counter()
from kedro.pipeline import Pipeline, node

T_IMPORT = time.perf_counter() - T0


def noop(*parents):
    return 0


if __name__ == "__main__":
    dag = layered_dag()
    start, selected = rerun_selection(dag)
    with Timer() as tb:
        nodes = [node(noop, list(parents) or None, name, name=name) for name, parents in dag]
    with Timer() as tv:
        pipe = Pipeline(nodes)
        order = pipe.nodes  # topologically sorted (computed once)
    with Timer() as tp:
        sub = pipe.from_nodes(start)
        planned = len(sub.nodes)
    assert len(order) == len(dag) and planned == len(selected), (len(order), planned)
    emit(
        t_run=tb.s + tv.s + tp.s,
        t_build=tb.s,
        t_validate=tv.s,
        t_plan=tp.s,
        steps=len(dag),
        selected=planned,
        t_import=T_IMPORT,
    )
