"""W3 prefect: preprocess -> train -> evaluate -> check with task caching.
preprocess persists its 100 MiB result (cache_policy=INPUTS, persist_result)
into local result storage under $PREFECT_HOME/storage. 'full' refreshes the
cache (preprocess executes); 'rerun' runs the same flow: preprocess is a cache
hit (its persisted result is loaded), train/evaluate (NO_CACHE) execute again,
as does the trivial check (a flow always runs top to bottom)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import SLEEP_EVAL, SLEEP_PRE, SLEEP_TRAIN, Timer, dir_bytes, emit, make_payload

T0 = time.perf_counter()
from prefect import flow, task
from prefect.cache_policies import INPUTS, NO_CACHE

T_IMPORT = time.perf_counter() - T0
from _pf import start_ephemeral_server


@task(cache_policy=INPUTS, persist_result=True)
def preprocess(seed: int):
    time.sleep(SLEEP_PRE)
    return make_payload()


@task(cache_policy=NO_CACHE)
def train(data):
    time.sleep(SLEEP_TRAIN)
    return len(data)


@task(cache_policy=NO_CACHE)
def evaluate(model):
    time.sleep(SLEEP_EVAL)
    return model > 0


@task(cache_policy=NO_CACHE)
def check(ok):
    assert ok


@flow
def pipeline(refresh: bool):
    data = preprocess.with_options(refresh_cache=refresh)(0)
    check(evaluate(train(data)))


if __name__ == "__main__":
    phase = sys.argv[1]
    store = os.path.join(os.environ["PREFECT_HOME"], "storage")
    os.makedirs(store, exist_ok=True)
    t_server = start_ephemeral_server()
    before = dir_bytes(store)
    with Timer() as t:
        pipeline(refresh=(phase == "full"))
    sleeps = SLEEP_PRE + SLEEP_TRAIN + SLEEP_EVAL if phase == "full" else SLEEP_TRAIN + SLEEP_EVAL
    emit(t_run=t.s, overhead=t.s - sleeps, store_delta=dir_bytes(store) - before, t_import=T_IMPORT, t_server=t_server)
