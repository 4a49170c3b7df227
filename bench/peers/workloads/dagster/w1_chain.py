"""W1 dagster: a job of N chained no-op ops.
mode inproc: job.execute_in_process() (in-process executor, in-memory IO
manager, ephemeral instance). mode multiproc: execute_job() of a reconstructable
job on the multiprocess executor (max_concurrent=2, default 'spawn' start
method: one child process per op), persistent instance, default fs IO manager."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Timer, emit

T0 = time.perf_counter()
from dagster import build_reconstructable_job, execute_job, in_process_executor, job, multiprocess_executor, op

T_IMPORT = time.perf_counter() - T0


def _first():
    return 1


def _step(x):
    return x + 1


def build_job(n, mode):
    first = op(name="s0")(_first)
    steps = [op(name=f"s{i}")(_step) for i in range(1, n)]
    ex = in_process_executor if mode == "inproc" else multiprocess_executor.configured({"max_concurrent": 2})

    @job(name=f"chain{n}", executor_def=ex)
    def chain():
        x = first()
        for s in steps:
            x = s(x)

    return chain


if __name__ == "__main__":
    n, mode = int(sys.argv[1]), sys.argv[2]
    if mode == "inproc":
        with Timer() as tb:
            j = build_job(n, mode)
        with Timer() as t:
            res = j.execute_in_process()
        assert res.success
    else:
        from _dg import instance

        inst = instance()
        with Timer() as tb:
            recon = build_reconstructable_job("w1_chain", "build_job", (n, mode))
        with Timer() as t:
            with execute_job(recon, instance=inst) as res:
                assert res.success
    emit(t_run=t.s, t_build=tb.s, t_import=T_IMPORT)
