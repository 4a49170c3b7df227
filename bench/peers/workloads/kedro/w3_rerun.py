"""W3 kedro: preprocess -> train -> evaluate -> check, preprocess's output is a
persisted PickleDataset (a file). 'rerun' = the programmatic form of
`kedro run --nodes train,evaluate`: Pipeline.only_nodes(...), loading the
persisted preprocess output from the full run's file."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import RUNS, SLEEP_EVAL, SLEEP_PRE, SLEEP_TRAIN, Timer, dir_bytes, emit, make_payload

T0 = time.perf_counter()
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner
from kedro_datasets.pickle import PickleDataset

T_IMPORT = time.perf_counter() - T0
STORE = os.path.join(RUNS, "kedro")


def preprocess():
    time.sleep(SLEEP_PRE)
    return make_payload()


def train(data):
    time.sleep(SLEEP_TRAIN)
    return len(data)


def evaluate(model):
    time.sleep(SLEEP_EVAL)
    return model > 0


def check(ok):
    assert ok


if __name__ == "__main__":
    phase = sys.argv[1]
    os.makedirs(STORE, exist_ok=True)
    pipe = Pipeline(
        [
            node(preprocess, None, "pre_out", name="preprocess"),
            node(train, "pre_out", "model", name="train"),
            node(evaluate, "model", "ok", name="evaluate"),
            node(check, "ok", None, name="check"),
        ]
    )
    catalog = DataCatalog({"pre_out": PickleDataset(filepath=os.path.join(STORE, "pre_out.pkl"))})
    if phase == "rerun":
        pipe = pipe.only_nodes("train", "evaluate")
    before = dir_bytes(STORE)
    with Timer() as t:
        SequentialRunner().run(pipe, catalog)
    sleeps = SLEEP_PRE + SLEEP_TRAIN + SLEEP_EVAL if phase == "full" else SLEEP_TRAIN + SLEEP_EVAL
    emit(t_run=t.s, overhead=t.s - sleeps, store_delta=dir_bytes(STORE) - before, t_import=T_IMPORT)
