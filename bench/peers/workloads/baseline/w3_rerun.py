"""W3 baseline: plain Python with a file hand-off. 'full' runs all 4 steps;
'rerun' runs train+evaluate reading the file preprocess wrote (referenced)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import SLEEP_EVAL, SLEEP_PRE, SLEEP_TRAIN, Timer, dir_bytes, emit, make_payload, store_dir

STORE = store_dir("baseline")
PRE = os.path.join(STORE, "pre.bin")


def preprocess():
    time.sleep(SLEEP_PRE)
    with open(PRE, "wb") as f:
        f.write(make_payload())
    return PRE


def train(path):
    time.sleep(SLEEP_TRAIN)
    with open(path, "rb") as f:
        return len(f.read())


def evaluate(model):
    time.sleep(SLEEP_EVAL)
    return model > 0


def check(ok):
    assert ok


if __name__ == "__main__":
    phase = sys.argv[1]
    os.makedirs(STORE, exist_ok=True)
    before = dir_bytes(STORE)
    with Timer() as t:
        if phase == "full":
            check(evaluate(train(preprocess())))
        else:
            evaluate(train(PRE))
    sleeps = SLEEP_PRE + SLEEP_TRAIN + SLEEP_EVAL if phase == "full" else SLEEP_TRAIN + SLEEP_EVAL
    emit(t_run=t.s, overhead=t.s - sleeps, store_delta=dir_bytes(STORE) - before)
