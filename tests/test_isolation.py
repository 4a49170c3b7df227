"""Isolation and failure reporting of function steps (the parts that do not need job runners).

A step killed by a signal, exiting on its own, raising, or running out of memory ends Failed
with a reason that says which; a raised exception keeps its type and traceback; what one step
does to its process (environment, working directory, resource limits) does not reach the next
step run by the same reused worker; secrets passed as parameters are not written to logs by
sagepipe; and no Rust error ever reaches Python as a ``PanicException``.
"""

import json
import os
import signal
import sys
import threading
from pathlib import Path

import pytest
from sagepipe import _core
from sagepipe.exceptions import SagePipeError, StepFailedError
from sagepipe.workflow.function_step import step
from sagepipe.workflow.parallelism_config import ParallelismConfiguration
from sagepipe.workflow.parameters import ParameterString
from sagepipe.workflow.pipeline import Pipeline


class ModelQualityError(Exception):
    """A user exception type that must survive the trip through the store."""

    def __init__(self, metric: str, value: float):
        super().__init__(f"{metric} too low: {value}")
        self.metric = metric
        self.value = value

    def __reduce__(self):
        return type(self), (self.metric, self.value)


class UnrebuildableError(Exception):
    """Pickles, but cannot be unpickled (``__init__`` wants other arguments than ``args``)."""

    def __init__(self, code: int, detail: str):
        super().__init__(f"code {code}: {detail}")


def _run(session, name, steps, **start):
    ex = Pipeline(name=name, steps=steps, sagemaker_session=session).start(**start)
    ex.wait(delay=1, max_attempts=300)
    return ex, {s["StepName"]: s for s in ex.list_steps()}


def _records(session, ex):
    """The raw step records (with the internal ``Error`` field the boto3-shaped view drops)."""
    return {r["StepName"]: r for r in json.loads(session.store.load_steps(ex.arn))}


# --------------------------------------------------------------------------------------------
# failure reporting


@pytest.mark.parametrize("mode", ["worker", "in_process"])
def test_raised_exception_keeps_type_attributes_and_traceback(session, mode):
    session.function_step_mode = mode

    @step(name="Evaluate")
    def evaluate():
        def check_quality(auc):
            raise ModelQualityError("auc", auc)

        check_quality(0.42)

    ex, steps = _run(session, f"raises-{mode.replace('_', '-')}", [evaluate()])
    rec = _records(session, ex)["Evaluate"]
    assert rec["StepStatus"] == "Failed"
    assert rec["FailureReason"].startswith("ModelQualityError: auc too low: 0.42")
    assert rec["Error"]["type"] == f"{__name__}.ModelQualityError"
    assert rec["Error"]["message"] == "auc too low: 0.42"
    tb = rec["Error"]["traceback"]
    assert tb.startswith("Traceback (most recent call last)") and "check_quality" in tb
    with pytest.raises(ModelQualityError) as info:
        ex.result("Evaluate")
    assert (info.value.metric, info.value.value) == ("auc", 0.42)
    assert "check_quality" in ex.logs("Evaluate")


def test_exception_that_cannot_be_rebuilt_is_a_step_failed_error(session):
    @step(name="Odd")
    def odd():
        raise UnrebuildableError(7, "odd failure")

    ex, steps = _run(session, "odd", [odd()])
    assert steps["Odd"]["FailureReason"].startswith("UnrebuildableError: code 7: odd failure")
    with pytest.raises(StepFailedError) as info:
        ex.result("Odd")
    text = str(info.value)
    assert f"{__name__}.UnrebuildableError" in text and "Traceback (most recent call last)" in text


def test_memory_exhaustion_fails_the_step_and_the_limit_ends_with_it(session):
    """A step that caps its own address space and then allocates past it fails with
    MemoryError; the next step, on the same reused worker, has the limit back."""
    import resource

    @step(name="Hog")
    def hog():
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, hard))
        return bytearray(4 << 30)

    @step(name="Next")
    def next_(after):
        import resource

        return resource.getrlimit(resource.RLIMIT_AS)[0]

    ex, steps = _run(session, "hog", [hog()])
    assert steps["Hog"]["StepStatus"] == "Failed"
    assert steps["Hog"]["FailureReason"].startswith("MemoryError")

    @step(name="Hog")
    def hog_then_recover():
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, hard))
        try:
            bytearray(4 << 30)
        except MemoryError:
            return "caught"

    # Next runs after Hog on the one worker of this run.
    ex, steps = _run(session, "hog-recover", [next_(hog_then_recover())],
                     parallelism_config=ParallelismConfiguration(1))
    assert steps["Hog"]["StepStatus"] == "Succeeded"
    assert ex.result("Next") == resource.getrlimit(resource.RLIMIT_AS)[0]


# --------------------------------------------------------------------------------------------
# isolation between steps on a reused worker


def test_process_state_of_one_step_does_not_reach_the_next(session, tmp_path):
    """Steps run one after the other reuse one worker; what the first does to os.environ and
    the working directory must not be what the second sees (separate jobs on SageMaker)."""
    elsewhere = str(tmp_path)

    @step(name="Dirty", environment_variables={"STEP_OWN": "dirty"})
    def dirty(where):
        os.environ["LEAKED_BY_DIRTY"] = "yes"
        os.environ["PATH"] = "/nonexistent"
        os.chdir(where)
        return {"own": os.environ.get("STEP_OWN"), "pid": os.getpid()}

    @step(name="Clean")
    def clean(prev):
        return {
            "leaked": os.environ.get("LEAKED_BY_DIRTY"),
            "own": os.environ.get("STEP_OWN"),
            "path": os.environ.get("PATH"),
            "cwd": os.getcwd(),
            "pid": os.getpid(),
            "prev_pid": prev["pid"],
        }

    ex, steps = _run(session, "leak", [clean(dirty(elsewhere))])
    assert ex.describe()["PipelineExecutionStatus"] == "Succeeded", steps
    assert ex.result("Dirty")["own"] == "dirty"
    seen = ex.result("Clean")
    assert seen["leaked"] is None, seen
    assert seen["own"] is None, seen
    assert seen["path"] == os.environ.get("PATH"), seen
    assert seen["cwd"] != elsewhere, seen


def test_parallel_in_process_steps_log_their_own_output_and_restore_stdout(in_process_session):
    before = (sys.stdout, sys.stderr)

    def chatty(tag):
        import time

        for i in range(40):
            print(f"{tag}-{i}")
            time.sleep(0.002)
        return tag

    @step(name="Left")
    def left():
        return chatty("left")

    @step(name="Right")
    def right():
        return chatty("right")

    @step(name="Join")
    def join(a, b):
        return [a, b]

    ex, steps = _run(in_process_session, "chatty", [join(left(), right())])
    assert ex.result("Join") == ["left", "right"]
    assert (sys.stdout, sys.stderr) == before
    print("stdout still works")
    left_log, right_log = ex.logs("Left"), ex.logs("Right")
    assert left_log.count("left-") == 40 and "right-" not in left_log
    assert right_log.count("right-") == 40 and "left-" not in right_log
    assert threading.active_count() >= 1


# --------------------------------------------------------------------------------------------
# Rust errors are typed Python errors, never panics

