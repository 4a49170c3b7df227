"""Per-step overhead of sagepipe on a chain of N no-op @step functions, in both function-step
modes, against plain Python calls measured in the same run.

    python bench/chain_overhead.py [N] [REPEATS]      # defaults: 100 steps, 5 repeats

Prints medians: wall time of the run (start() to wait() returning), per-step overhead, and the
ratio to the plain-Python baseline.
"""

import statistics
import sys
import tempfile
import time

from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession


def noop(x):
    return x + 1


def build(n: int, session) -> Pipeline:
    out = None
    for i in range(n):
        fn = step(name=f"S{i}")(noop)
        out = fn(0 if out is None else out)
    return Pipeline(name=f"chain-{n}", steps=[out], sagemaker_session=session)


def run_once(n: int, mode: str) -> float:
    with tempfile.TemporaryDirectory() as store:
        session = PipelineSession(store=store, function_step_mode=mode)
        pipeline = build(n, session)
        pipeline.upsert()
        t0 = time.perf_counter()
        execution = pipeline.start()
        execution.wait()
        elapsed = time.perf_counter() - t0
        status = execution.describe()["PipelineExecutionStatus"]
        assert status == "Succeeded", status
        assert execution.result(f"S{n - 1}") == n
        return elapsed


def baseline(n: int) -> float:
    t0 = time.perf_counter()
    x = 0
    for _ in range(n):
        x = noop(x)
    return time.perf_counter() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    base = statistics.median(baseline(n) for _ in range(repeats))
    print(f"chain of {n} no-op steps, median of {repeats} runs")
    print(f"{'mode':<12}{'run (s)':>10}{'per step (us)':>16}{'x plain calls':>16}")
    print(f"{'plain calls':<12}{base:>10.5f}{base / n * 1e6:>16.2f}{1.0:>16.0f}")
    for mode in ("in_process", "worker"):
        run_once(min(n, 5), mode)  # warm-up (imports, first worker start)
        t = statistics.median(run_once(n, mode) for _ in range(repeats))
        print(f"{mode:<12}{t:>10.5f}{t / n * 1e6:>16.2f}{t / base:>16.0f}")


if __name__ == "__main__":
    main()
