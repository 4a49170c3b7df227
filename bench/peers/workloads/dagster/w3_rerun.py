"""W3 dagster: preprocess -> train -> evaluate -> check, FilesystemIOManager
(pickles each op output under runs/dagster/<run_id>/<step>/result), persistent
instance. 'full': execute_job; 'rerun': execute_job with
ReexecutionOptions(parent_run_id=<last full run>, step_selection=[train, evaluate]):
train loads preprocess's output from the parent run's directory."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RUNS, SLEEP_EVAL, SLEEP_PRE, SLEEP_TRAIN, Timer, dir_bytes, emit, make_payload

T0 = time.perf_counter()
from dagster import FilesystemIOManager, ReexecutionOptions, execute_job, in_process_executor, job, op, reconstructable

T_IMPORT = time.perf_counter() - T0
STORE = os.path.join(RUNS, "dagster")


@op
def preprocess():
    time.sleep(SLEEP_PRE)
    return make_payload()


@op
def train(data):
    time.sleep(SLEEP_TRAIN)
    return len(data)


@op
def evaluate(model):
    time.sleep(SLEEP_EVAL)
    return model > 0


@op
def check(ok):
    assert ok


@job(executor_def=in_process_executor, resource_defs={"io_manager": FilesystemIOManager(base_dir=STORE)})
def pipeline():
    check(evaluate(train(preprocess())))


if __name__ == "__main__":
    from _dg import instance

    phase = sys.argv[1]
    os.makedirs(STORE, exist_ok=True)
    inst = instance()
    recon = reconstructable(pipeline)
    last = os.path.join(STORE, "last_full_run_id")
    before = dir_bytes(STORE)
    with Timer() as t:
        if phase == "full":
            with execute_job(recon, instance=inst) as res:
                assert res.success
                run_id = res.run_id
        else:
            opts = ReexecutionOptions(parent_run_id=open(last).read().strip(), step_selection=["train", "evaluate"])
            with execute_job(recon, instance=inst, reexecution_options=opts) as res:
                assert res.success
    if phase == "full":
        with open(last, "w") as f:
            f.write(run_id)
    sleeps = SLEEP_PRE + SLEEP_TRAIN + SLEEP_EVAL if phase == "full" else SLEEP_TRAIN + SLEEP_EVAL
    emit(t_run=t.s, overhead=t.s - sleeps, store_delta=dir_bytes(STORE) - before, t_import=T_IMPORT)
