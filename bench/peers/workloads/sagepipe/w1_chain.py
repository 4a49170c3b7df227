"""W1 sagepipe: a chain of N no-op @step functions, each passing int + 1 to the next.
argv: N [in_process|worker] (default worker: every step in a warm worker process).
t_run = pipeline.start() + wait() (start() also re-serializes the definition, as a user pays)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RUNS, Timer, emit

T0 = time.perf_counter()
from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline

T_IMPORT = time.perf_counter() - T0
from _sp import case_store, session, succeeded


def first():
    return 1


def bump(x):
    return x + 1


def build(n, sess):
    out = step(name="s0")(first)()
    for i in range(1, n):
        out = step(name=f"s{i}")(bump)(out)
    return Pipeline(name=f"chain{n}", steps=[out], sagemaker_session=sess)


if __name__ == "__main__":
    n = int(sys.argv[1])
    mode = sys.argv[2] if len(sys.argv) > 2 else "worker"
    sess = session(case_store(RUNS, f"w1-{mode}-{n}"), mode)
    with Timer() as tb:
        pipe = build(n, sess)
        pipe.upsert()
    with Timer() as t:
        execution = pipe.start()
        execution.wait()
    succeeded(execution)
    assert execution.result(f"s{n - 1}") == n
    emit(t_run=t.s, t_build=tb.s, t_import=T_IMPORT)
