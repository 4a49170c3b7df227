"""W3 sagepipe: preprocess -> train -> evaluate -> check as @step functions; preprocess's
100 MiB result (BENCH_PAYLOAD_MB for other sizes) is stored by sagepipe in its store.
argv: full|rerun [worker|in_process]. 'full' runs everything and records its ARN; 'rerun' is
Selective Execution of train+evaluate (SelectiveExecutionConfig) with that full run as the
reference, so preprocess's stored output is reused by reference."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import SLEEP_EVAL, SLEEP_PRE, SLEEP_TRAIN, Timer, dir_bytes, emit, make_payload, store_dir

T0 = time.perf_counter()
from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

T_IMPORT = time.perf_counter() - T0
from _sp import session, succeeded


@step(name="preprocess")
def preprocess():
    time.sleep(SLEEP_PRE)
    return make_payload()


@step(name="train")
def train(data):
    time.sleep(SLEEP_TRAIN)
    return len(data)


@step(name="evaluate")
def evaluate(model):
    time.sleep(SLEEP_EVAL)
    return model > 0


@step(name="check")
def check(ok):
    assert ok


def store_for(mode):
    """The harness's W3 store path for this function-step mode (see harness/bench.py)."""
    return store_dir("sagepipe" if mode == "worker" else "sagepipe-inproc")


if __name__ == "__main__":
    phase = sys.argv[1]
    mode = sys.argv[2] if len(sys.argv) > 2 else "worker"
    store = store_for(mode)
    os.makedirs(store, exist_ok=True)
    last_full = os.path.join(store, "last_full_execution_arn")
    pipe = Pipeline(name="rerun", steps=[check(evaluate(train(preprocess())))], sagemaker_session=session(store, mode))
    pipe.upsert()
    config = None
    if phase == "rerun":
        with open(last_full) as f:
            config = SelectiveExecutionConfig(
                selected_steps=["train", "evaluate"], source_pipeline_execution_arn=f.read().strip()
            )
    before = dir_bytes(store)
    with Timer() as t:
        execution = pipe.start(selective_execution_config=config)
        execution.wait()
    growth = dir_bytes(store) - before
    succeeded(execution)
    ran = sorted(s["StepName"] for s in execution.list_steps() if "SelectiveExecutionResult" not in s)
    assert ran == (["check", "evaluate", "preprocess", "train"] if phase == "full" else ["evaluate", "train"]), ran
    if phase == "full":
        with open(last_full, "w") as f:
            f.write(execution.arn)
    sleeps = SLEEP_PRE + SLEEP_TRAIN + SLEEP_EVAL if phase == "full" else SLEEP_TRAIN + SLEEP_EVAL
    emit(t_run=t.s, overhead=t.s - sleeps, store_delta=growth, t_import=T_IMPORT)
