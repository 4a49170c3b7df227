"""W5 dagster: build + validate the 5,000-step layered DAG (common.layered_dag) as a job
of aliased ops (one op definition per parent count; the @job decorator builds and validates
the dependency graph), then plan the selective re-run: job.get_subset(op_selection=["<mid>*"])
(the op and everything downstream)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import BIG_MAX_PARENTS, Timer, emit, layered_dag, rerun_selection

T0 = time.perf_counter()
from dagster import In, job, op

T_IMPORT = time.perf_counter() - T0


def noop0():
    return 0


def noop1(p0):
    return 0


def noop2(p0, p1):
    return 0


def noop3(p0, p1, p2):
    return 0


def noop4(p0, p1, p2, p3):
    return 0


def op_with_parents(k):
    fn = (noop0, noop1, noop2, noop3, noop4)[k]
    return op(name=fn.__name__, ins={f"p{i}": In() for i in range(k)})(fn)


if __name__ == "__main__":
    dag = layered_dag()
    start, selected = rerun_selection(dag)
    with Timer() as tb:
        ops = [op_with_parents(k) for k in range(BIG_MAX_PARENTS + 1)]

        @job(name="big5000")
        def big():
            outs = {}
            for name, parents in dag:
                outs[name] = ops[len(parents)].alias(name)(**{f"p{i}": outs[p] for i, p in enumerate(parents)})

    with Timer() as tv:
        snapshot_nodes = len(big.graph.node_dict)
    with Timer() as tp:
        sub = big.get_subset(op_selection=[f"{start}*"])
        planned = len(sub.graph.node_dict)
    assert snapshot_nodes == len(dag) and planned == len(selected), (snapshot_nodes, planned)
    emit(
        t_run=tb.s + tv.s + tp.s,
        t_build=tb.s,
        t_validate=tv.s,
        t_plan=tp.s,
        steps=len(dag),
        selected=planned,
        t_import=T_IMPORT,
    )
