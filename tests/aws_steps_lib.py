"""Helpers for tests/test_aws_side_steps.py (importable by worker processes)."""

import os

from sagepipe.workflow.function_step import step


def mark(workdir: str, name: str) -> str:
    """Record that step ``name`` ran (one line per run) and return its name."""
    with open(os.path.join(workdir, "ran.txt"), "a") as f:
        f.write(name + "\n")
    return name


def runs(workdir: str) -> list:
    path = os.path.join(workdir, "ran.txt")
    return open(path).read().split() if os.path.exists(path) else []


@step(name="Prepare")
def prepare(workdir: str) -> str:
    return mark(workdir, "Prepare")
