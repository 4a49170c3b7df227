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


@pytest.mark.parametrize(
    "how, reason",
    [
        ("sigterm", "killed by signal 15"),
        ("sigsegv", "killed by signal 11"),
        ("abort", "killed by signal 6"),
        ("os_exit_3", "exited with code 3"),
        ("os_exit_0", "exited with code 0"),
    ],
)
def test_worker_death_fails_the_step_with_the_cause(session, how, reason):
    @step(name="Die")
    def die(mode):
        if mode == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)
        elif mode == "sigsegv":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif mode == "abort":
            os.abort()
        else:
            os._exit(int(mode.rsplit("_", 1)[1]))
        return "unreachable"

    @step(name="After")
    def after(x):
        return x

    ex, steps = _run(session, f"die-{how.replace('_', '-')}", [after(die(how))])
    assert ex.describe()["PipelineExecutionStatus"] == "Failed"
    assert ex.describe()["FailureReason"] == "Step failure: One or multiple steps failed."
    assert steps["Die"]["StepStatus"] == "Failed"
    assert reason in steps["Die"]["FailureReason"], steps["Die"]["FailureReason"]
    assert "After" not in steps
    with pytest.raises(StepFailedError, match=reason):
        ex.result("Die")


def test_sys_exit_is_a_failure_not_a_dead_worker(session):
    @step(name="Quit")
    def quit_():
        sys.exit(4)

    ex, steps = _run(session, "sys-exit", [quit_()])
    assert steps["Quit"]["StepStatus"] == "Failed"
    assert steps["Quit"]["FailureReason"].startswith("SystemExit: 4")
    assert _records(session, ex)["Quit"]["Error"]["type"] == "builtins.SystemExit"


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
    ex, steps = _run(
        session, "hog-recover", [next_(hog_then_recover())], parallelism_config=ParallelismConfiguration(1)
    )
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
    assert seen["pid"] == seen["prev_pid"], "the steps ran on two workers: nothing was tested"
    assert seen["leaked"] is None, seen
    assert seen["own"] is None, seen
    assert seen["path"] == os.environ.get("PATH"), seen
    assert seen["cwd"] != elsewhere, seen


def test_step_environment_overlay_is_its_own(session):
    @step(name="A", environment_variables={"WHO": "a"})
    def a():
        return os.environ.get("WHO")

    @step(name="B", environment_variables={"WHO": "b"})
    def b(x):
        return [x, os.environ.get("WHO")]

    @step(name="C")
    def c(x):
        return [*x, os.environ.get("WHO")]

    ex, _ = _run(session, "overlay", [c(b(a()))])
    assert ex.result("C") == ["a", "b", None]


# --------------------------------------------------------------------------------------------
# secrets


@pytest.mark.parametrize("mode", ["worker", "in_process"])
def test_secret_parameters_are_not_logged_by_sagepipe(session, tmp_path, mode, capfd):
    session.function_step_mode = mode
    secret = "sk-live-7Hq2dontLogMe9"
    key = ParameterString("ApiKey", default_value="unset")

    @step(name="UseKey", retry_policies=[])
    def use_key(k):
        return len(k)

    @step(name="FailWithKey")
    def fail_with_key(k, n):
        raise RuntimeError("upstream said no")  # the message does not carry the key

    pipeline = Pipeline(
        name=f"secret-{mode.replace('_', '-')}",
        parameters=[key],
        steps=[fail_with_key(key, use_key(key))],
        sagemaker_session=session,
    )
    ex = pipeline.start(parameters={"ApiKey": secret})
    ex.wait(delay=1, max_attempts=120)
    assert ex.result("UseKey") == len(secret)
    logs_dir = Path(session.store.root)
    logs = [p for p in logs_dir.rglob("*.log")]
    assert logs, "the steps wrote logs"
    for p in logs:
        assert secret not in p.read_text(errors="replace"), p
    for rec in ex.list_steps():
        assert secret not in json.dumps(rec, default=str), rec["StepName"]
    out, err = capfd.readouterr()
    assert secret not in out and secret not in err


# --------------------------------------------------------------------------------------------
# in-process capture (regression: parallel steps swapped sys.stdout under each other)


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


# --------------------------------------------------------------------------------------------
# Rust errors are typed Python errors, never panics


def _is_panic(exc: BaseException) -> bool:
    return type(exc).__name__ == "PanicException" or "pyo3" in (type(exc).__module__ or "")


BINDING_CALLS = {
    "compile-not-json": lambda s: _core.compile_definition("\x00\xff", "p"),
    "compile-huge-number": lambda s: _core.compile_definition('{"Steps": [], "Parameters": [' + "9" * 5000 + "]}", "p"),
    "load-pipeline-traversal": lambda s: s.load_pipeline("../../etc"),
    "load-execution-garbage-arn": lambda s: s.load_execution("not an arn"),
    "load-execution-traversal-arn": lambda s: s.load_execution(
        "arn:aws:sagemaker:local:0:pipeline/../../x/execution/abc"
    ),
    "load-steps-unknown": lambda s: s.load_steps("arn:aws:sagemaker:local:0:pipeline/p/execution/zzzzzzzzzzzz"),
    "definition-unknown-version": lambda s: s.definition_text("nope", 2**63),
    "uri-escape": lambda s: s.uri_to_path("s3://b/../../etc/passwd"),
    "uri-nul": lambda s: s.uri_to_path("s3://b/a\x00b"),
    "uri-scheme": lambda s: s.uri_to_path("gs://b/k"),
    "log-path-bad-arn": lambda s: s.log_path("x", "Step"),
    "put-pipeline-bad-mode-json": lambda s: s.put_pipeline("p", "{}", "create", "not json"),
    "put-pipeline-nul-name": lambda s: s.put_pipeline("a\x00b", "{}", "create", "{}"),
    "start-request-not-json": lambda s: s.start("{{{"),
    "start-request-list": lambda s: s.start("[]"),
    "start-unknown-pipeline": lambda s: s.start('{"PipelineName": "ghost"}'),
    "start-request-wrong-types": lambda s: s.start('{"PipelineName": 5, "Parameters": "x"}'),
    "plan-config-not-object": lambda s: s.plan("p", "7"),
    "plan-unknown-pipeline": lambda s: s.plan("ghost", '{"SelectedSteps": [{"StepName": "A"}]}'),
    "resume-unknown-execution": lambda s: s.resume_selection(
        "arn:aws:sagemaker:local:0:pipeline/p/execution/zzzzzzzzzzzz"
    ),
    "delete-unknown": lambda s: s.delete_pipeline("ghost"),
}


@pytest.mark.parametrize("call", list(BINDING_CALLS.values()), ids=list(BINDING_CALLS))
def test_binding_errors_are_typed_never_panics(tmp_path, call):
    store = _core.Store(str(tmp_path / "store"))
    try:
        call(store)
    except BaseException as exc:  # noqa: BLE001 - a PanicException is a BaseException
        assert not _is_panic(exc), f"panic escaped: {exc!r}"
        assert isinstance(exc, (SagePipeError, ValueError, TypeError, LookupError, OSError)), repr(exc)
        assert str(exc)
    else:
        pytest.fail("expected an error")
    # Nothing was written outside the store (a store is only created by a write).
    assert {p.name for p in tmp_path.iterdir()} <= {"store"}
