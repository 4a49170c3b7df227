"""Step functions shared by the engine tests (importable by worker processes)."""

import os
import time


def burn_cpu(seconds: float) -> float:
    """Spin the CPU for `seconds` of process time (holds the GIL the whole time)."""
    start = time.process_time()
    x = 0
    while time.process_time() - start < seconds:
        x += 1
    return seconds


def fail_until(counter_path: str, succeed_on: int) -> int:
    """Fail until called for the `succeed_on`-th time (counted in a file)."""
    n = int(open(counter_path).read()) + 1 if os.path.exists(counter_path) else 1
    with open(counter_path, "w") as f:
        f.write(str(n))
    if n < succeed_on:
        raise RuntimeError(f"flaky failure on attempt {n}")
    return n


def explode(message: str):
    inner_helper(message)


def inner_helper(message: str):
    raise ValueError(message)
