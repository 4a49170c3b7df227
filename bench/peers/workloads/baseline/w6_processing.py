"""W6 baseline: the processing script run JOBS times as a plain `python` child, each with
its own input/output directories (what a job costs without any sandbox or records)."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import JOBS, PROCESSING_SCRIPT, RUNS, Timer, emit

if __name__ == "__main__":
    os.makedirs(RUNS, exist_ok=True)
    root = tempfile.mkdtemp(prefix="baseline-w6-", dir=RUNS)
    try:
        with Timer() as t:
            for i in range(JOBS):
                opt_ml = os.path.join(root, f"job{i}")
                os.makedirs(os.path.join(opt_ml, "processing", "input"))
                with open(os.path.join(opt_ml, "processing", "input", "data.txt"), "w") as f:
                    f.write(str(i))
                subprocess.run(
                    [sys.executable, PROCESSING_SCRIPT], check=True, env=dict(os.environ, BENCH_OPT_ML=opt_ml)
                )
                with open(os.path.join(opt_ml, "processing", "output", "result.txt")) as f:
                    assert int(f.read()) == i + 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
    emit(t_run=t.s, jobs=JOBS, ms_per_job=t.s / JOBS * 1000)
