"""W2 metaflow: start -> foreach work (8 tasks, burn) -> join -> end (end is
required by metaflow). Sequential vs parallel = `run --max-workers 1|2`:
the local runtime runs every task as its own `python flow.py step` child."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import FANOUT, burn
from metaflow import FlowSpec, step


class Fan(FlowSpec):
    @step
    def start(self):
        self.items = list(range(FANOUT))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.r = burn(self.input)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.r for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    Fan()
