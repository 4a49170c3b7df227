"""W2 baseline: 8 x burn() then a join, sequential or multiprocessing.Pool(2) (fork)."""

import multiprocessing as mp
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import FANOUT, Timer, burn, emit

if __name__ == "__main__":
    mode = sys.argv[1]  # seq | par
    with Timer() as t:
        if mode == "seq":
            parts = [burn(i) for i in range(FANOUT)]
        else:
            with mp.get_context("fork").Pool(2) as pool:
                parts = pool.map(burn, range(FANOUT))
        total = sum(parts)
    emit(t_run=t.s, total=total % 1000)
