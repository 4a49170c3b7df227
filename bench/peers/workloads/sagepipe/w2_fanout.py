"""W2 sagepipe: 8 independent burn @steps + a join @step.
argv: seq|par [worker|in_process]; seq = MaxParallelExecutionSteps 1, par = 2
(ParallelismConfiguration). Default function-step mode: worker (each step in a warm worker
process, so CPU-bound steps run in parallel); in_process holds the GIL for BURN_MODE=inproc."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import FANOUT, RUNS, Timer, burn, emit

T0 = time.perf_counter()
from sagepipe.workflow.function_step import step
from sagepipe.workflow.parallelism_config import ParallelismConfiguration
from sagepipe.workflow.pipeline import Pipeline

T_IMPORT = time.perf_counter() - T0
from _sp import case_store, session, succeeded


def work(i):
    return burn(i)


def join(*parts):
    return sum(parts)


def build(sess):
    parts = [step(name=f"w{i}")(work)(i) for i in range(FANOUT)]
    total = step(name="join")(join)(*parts)
    return Pipeline(name="fan", steps=[total], sagemaker_session=sess)


if __name__ == "__main__":
    workers = {"seq": 1, "par": 2}[sys.argv[1]]
    mode = sys.argv[2] if len(sys.argv) > 2 else "worker"
    pipe = build(session(case_store(RUNS, "w2"), mode))
    pipe.upsert()
    with Timer() as t:
        execution = pipe.start(parallelism_config=ParallelismConfiguration(workers))
        execution.wait()
    succeeded(execution)
    total = execution.result("join")
    emit(t_run=t.s, t_import=T_IMPORT, total=total % 1000)
