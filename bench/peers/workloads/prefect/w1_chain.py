"""W1 prefect: a flow calling N no-op tasks in sequence (each task run is
tracked by the API: by default an ephemeral local server that prefect starts
and stops itself when PREFECT_API_URL is unset)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import Timer, emit

T0 = time.perf_counter()
from prefect import flow, task

T_IMPORT = time.perf_counter() - T0
from _pf import start_ephemeral_server


@task
def step(x):
    return x + 1


@flow
def chain(n: int):
    x = 0
    for _ in range(n):
        x = step(x)
    return x


if __name__ == "__main__":
    n = int(sys.argv[1])
    t_server = start_ephemeral_server()
    with Timer() as t:
        assert chain(n) == n
    emit(t_run=t.s, t_import=T_IMPORT, t_server=t_server)
