"""W2 prefect: 8 burn tasks + a join task.
mode seq: tasks called directly (sequential); thread: .submit() on
ThreadPoolTaskRunner(max_workers=2) (prefect's default runner kind);
proc: .submit() on ProcessPoolTaskRunner(max_workers=2)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import FANOUT, Timer, burn, emit

T0 = time.perf_counter()
from prefect import flow, task
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

T_IMPORT = time.perf_counter() - T0
from _pf import start_ephemeral_server


@task
def work(i):
    return burn(i)


@task
def join(parts):
    return sum(parts)


def make(mode):
    runner = {
        "seq": ThreadPoolTaskRunner(max_workers=1),
        "thread": ThreadPoolTaskRunner(max_workers=2),
        "proc": ProcessPoolTaskRunner(max_workers=2),
    }[mode]

    @flow(task_runner=runner)
    def fan():
        if mode == "seq":
            parts = [work(i) for i in range(FANOUT)]
        else:
            parts = [f.result() for f in [work.submit(i) for i in range(FANOUT)]]
        return join(parts)

    return fan


if __name__ == "__main__":
    fan = make(sys.argv[1])
    t_server = start_ephemeral_server()
    with Timer() as t:
        fan()
    emit(t_run=t.s, t_import=T_IMPORT, t_server=t_server)
