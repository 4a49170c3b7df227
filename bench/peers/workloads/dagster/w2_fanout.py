"""W2 dagster: 8 independent burn ops + a join op.
seq: execute_in_process (in-process executor); par: execute_job on the
multiprocess executor, max_concurrent=2 (spawned child per op)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FANOUT, Timer, burn, emit

T0 = time.perf_counter()
from dagster import build_reconstructable_job, execute_job, in_process_executor, job, multiprocess_executor, op

T_IMPORT = time.perf_counter() - T0


def _work_op(i):
    def work():
        return burn(i)

    return op(name=f"w{i}")(work)


def _join(p0, p1, p2, p3, p4, p5, p6, p7):
    return p0 + p1 + p2 + p3 + p4 + p5 + p6 + p7


def build_job(mode):
    works = [_work_op(i) for i in range(FANOUT)]
    join = op(name="join")(_join)
    ex = in_process_executor if mode == "seq" else multiprocess_executor.configured({"max_concurrent": 2})

    @job(name="fan", executor_def=ex)
    def fan():
        join(*[w() for w in works])

    return fan


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "seq":
        j = build_job(mode)
        with Timer() as t:
            assert j.execute_in_process().success
    else:
        from _dg import instance

        inst = instance()
        recon = build_reconstructable_job("w2_fanout", "build_job", (mode,))
        with Timer() as t:
            with execute_job(recon, instance=inst) as res:
                assert res.success
    emit(t_run=t.s, t_import=T_IMPORT)
