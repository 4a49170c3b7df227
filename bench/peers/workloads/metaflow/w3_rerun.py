"""W3 metaflow: start(=preprocess) -> train -> evaluate -> end(=check); the
100 MiB payload is an artifact (self.data) in the local content-addressed
datastore. 'full' = `run`; 'rerun' = `resume train` (clones start from the
origin run, re-executes train, evaluate and end)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import SLEEP_EVAL, SLEEP_PRE, SLEEP_TRAIN, make_payload
from metaflow import FlowSpec, step


class Rerun(FlowSpec):
    @step
    def start(self):
        time.sleep(SLEEP_PRE)
        self.data = make_payload()
        self.next(self.train)

    @step
    def train(self):
        time.sleep(SLEEP_TRAIN)
        self.model = len(self.data)
        self.next(self.evaluate)

    @step
    def evaluate(self):
        time.sleep(SLEEP_EVAL)
        self.ok = self.model > 0
        self.next(self.end)

    @step
    def end(self):
        assert self.ok


if __name__ == "__main__":
    Rerun()
