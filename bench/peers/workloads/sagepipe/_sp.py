"""Shared set-up of sagepipe's workload scripts: a session on a store under runs/."""

import os

from sagepipe.workflow.pipeline_context import PipelineSession

MODES = ("in_process", "worker")


def session(store, mode="worker"):
    """A PipelineSession on ``store`` running @step functions in ``mode``."""
    if mode not in MODES:
        raise SystemExit(f"function-step mode must be one of {MODES}, got {mode!r}")
    return PipelineSession(store=store, function_step_mode=mode)


def case_store(runs_dir, name):
    """The store of one workload case: ``runs_dir/sagepipe-<name>``. The harness empties it
    before every run (untimed), so deleting thousands of step records never counts as the
    run's time; run by hand, executions accumulate there."""
    path = os.path.join(runs_dir, f"sagepipe-{name}")
    os.makedirs(path, exist_ok=True)
    return path


def succeeded(execution):
    """Raise with the failed steps' reasons unless the execution succeeded."""
    status = execution.describe()["PipelineExecutionStatus"]
    if status != "Succeeded":
        failed = [
            (s["StepName"], s.get("FailureReason")) for s in execution.list_steps() if s["StepStatus"] != "Succeeded"
        ]
        raise SystemExit(f"execution {execution.arn} ended {status}: {failed}")
