"""End-to-end runs of real pipelines on a temporary store: scheduling, parallelism, retries,
stop, failures, conditions, and records read from other processes."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import steps_lib
from sagepipe.exceptions import ResourceNotFoundError
from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.conditions import ConditionGreaterThanOrEqualTo, ConditionLessThan
from sagepipe.workflow.fail_step import FailStep
from sagepipe.workflow.function_step import step
from sagepipe.workflow.functions import Join
from sagepipe.workflow.parallelism_config import ParallelismConfiguration
from sagepipe.workflow.parameters import ParameterFloat, ParameterString
from sagepipe.workflow.pipeline import Pipeline, _PipelineExecution
from sagepipe.workflow.retry import SageMakerJobExceptionTypeEnum, SageMakerJobStepRetryPolicy

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)


def statuses(execution):
    return {s["StepName"]: s["StepStatus"] for s in execution.list_steps()}


def abc_pipeline(session):
    @step(name="PreProcess")
    def preprocess():
        return [1.0, 2.0, 3.0]

    @step(name="Train")
    def train(data, lr):
        print("training with", lr)
        return {"w": sum(data) * lr}

    @step(name="Evaluate")
    def evaluate(model):
        return {"rmse": model["w"] / 10}

    @step(name="Deploy")
    def deploy(metrics):
        return f"deployed with rmse {metrics['rmse']}"

    lr = ParameterFloat("TrainParameter", default_value=20.5)
    ev = evaluate(train(preprocess(), lr))
    cond = ConditionStep(
        name="Check",
        conditions=[ConditionLessThan(left=ev["rmse"], right=5)],
        if_steps=[deploy(ev)],
        else_steps=[FailStep(name="Fail", error_message=Join(on=" ", values=["rmse too high:", ev["rmse"]]))],
    )
    return Pipeline(name="demo", parameters=[lr], steps=[cond], sagemaker_session=session)


@pytest.mark.parametrize("mode", ["worker", "in_process"])
def test_issue_example_both_branches(session, mode):
    session.function_step_mode = mode
    pipeline = abc_pipeline(session)
    assert pipeline.upsert(role_arn="any")["PipelineArn"].endswith(":pipeline/demo")

    ok = pipeline.start(parameters={"TrainParameter": 5})
    ok.wait()
    assert ok.describe()["PipelineExecutionStatus"] == "Succeeded"
    steps = ok.list_steps()
    assert [s["StepName"] for s in steps] == ["Deploy", "Check", "Evaluate", "Train", "PreProcess"]
    assert {s["StepStatus"] for s in steps} == {"Succeeded"}
    check = next(s for s in steps if s["StepName"] == "Check")
    assert check["Metadata"] == {"Condition": {"Outcome": "True"}}
    assert ok.result("Evaluate") == {"rmse": 3.0}
    assert ok.result("Deploy") == "deployed with rmse 3.0"
    assert "training with 5.0" in ok.logs("Train")

    bad = pipeline.start(parameters={"TrainParameter": 20.5})
    bad.wait()
    desc = bad.describe()
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert desc["FailureReason"] == "rmse too high: 12.3"
    st = {s["StepName"]: s for s in bad.list_steps()}
    assert "Deploy" not in st  # the branch not taken never starts
    assert st["Check"]["Metadata"]["Condition"]["Outcome"] == "False"
    assert st["Fail"]["StepStatus"] == "Failed"
    assert st["Fail"]["Metadata"] == {"Fail": {"ErrorMessage": "rmse too high: 12.3"}}

    listed = Pipeline(name="demo", sagemaker_session=session).list_executions()["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in listed] == [bad.arn, ok.arn]
    assert listed[0]["StartTime"].tzinfo is not None


def diamond(session, name):
    @step(name="Start")
    def start():
        return 1.0

    @step(name="Left")
    def left(x):
        return steps_lib.burn_cpu(x)

    @step(name="Right")
    def right(x):
        return steps_lib.burn_cpu(x)

    @step(name="Join")
    def join(a, b):
        return a + b

    s = start()
    return Pipeline(name=name, steps=[join(left(s), right(s))], sagemaker_session=session)


def interval(execution, name):
    s = next(s for s in execution.list_steps() if s["StepName"] == name)
    return s["StartTime"].timestamp(), s["EndTime"].timestamp()


def test_diamond_runs_cpu_bound_branches_in_parallel(session):
    ex = diamond(session, "diamond").start()
    ex.wait()
    assert ex.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert ex.result("Join") == 2.0
    (l0, l1), (r0, r1) = interval(ex, "Left"), interval(ex, "Right")
    # Overlap proves they ran at the same time; the speedup itself is measured in bench/ (W2),
    # not asserted here, where a loaded machine would make it flaky.
    assert l0 < r1 and r0 < l1, "the two branches did not overlap"


def test_max_parallel_one_serializes(session):
    ex = diamond(session, "diamond-serial").start(parallelism_config=ParallelismConfiguration(1))
    ex.wait()
    assert ex.describe()["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 1}
    (l0, l1), (r0, r1) = interval(ex, "Left"), interval(ex, "Right")
    assert l1 <= r0 or r1 <= l0, "with MaxParallelExecutionSteps=1 the branches must not overlap"


def test_retry_policy_makes_flaky_step_succeed_on_attempt_3(session, tmp_path):
    counter = str(tmp_path / "count")

    @step(
        name="Flaky",
        retry_policies=[
            SageMakerJobStepRetryPolicy(
                exception_types=[SageMakerJobExceptionTypeEnum.INTERNAL_ERROR], max_attempts=3, interval_seconds=0.1
            )
        ],
    )
    def flaky(path):
        return steps_lib.fail_until(path, 3)

    ex = Pipeline(name="flaky", steps=[flaky(counter)], sagemaker_session=session).start()
    ex.wait()
    assert ex.describe()["PipelineExecutionStatus"] == "Succeeded"
    (only,) = ex.list_steps()
    assert only["AttemptCount"] == 3
    assert ex.result("Flaky") == 3
    assert "retrying" in ex.logs("Flaky")


def test_retry_gives_up_after_max_attempts(session, tmp_path):
    @step(
        name="Flaky",
        retry_policies=[
            SageMakerJobStepRetryPolicy(
                exception_types=[SageMakerJobExceptionTypeEnum.INTERNAL_ERROR], max_attempts=2, interval_seconds=0
            )
        ],
    )
    def flaky(path):
        return steps_lib.fail_until(path, 5)

    ex = Pipeline(name="flaky2", steps=[flaky(str(tmp_path / "c"))], sagemaker_session=session).start()
    ex.wait()
    (only,) = ex.list_steps()
    assert (only["StepStatus"], only["AttemptCount"]) == ("Failed", 2)


def test_stop_kills_a_long_step(session):
    @step(name="Sleepy")
    def sleepy():
        time.sleep(60)

    @step(name="After")
    def after(x):
        return x

    ex = Pipeline(name="sleepy", steps=[after(sleepy())], sagemaker_session=session).start()
    deadline = time.time() + 20
    while statuses(ex).get("Sleepy") != "Executing":
        assert time.time() < deadline
        time.sleep(0.05)
    t0 = time.time()
    ex.stop()
    ex.wait()
    assert time.time() - t0 < 10
    assert ex.describe()["PipelineExecutionStatus"] == "Stopped"
    assert statuses(ex) == {"Sleepy": "Stopped"}


def test_failing_step_traceback_in_reason_and_logs(session):
    @step(name="Boom")
    def boom():
        steps_lib.explode("kaboom 42")

    @step(name="Never")
    def never(x):
        return x

    ex = Pipeline(name="boom", steps=[never(boom())], sagemaker_session=session).start()
    ex.wait()
    desc = ex.describe()
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert desc["FailureReason"] == "Step failure: One or multiple steps failed."
    (failed,) = ex.list_steps()
    assert failed["StepName"] == "Boom" and failed["StepStatus"] == "Failed"
    assert failed["FailureReason"].startswith("ValueError: kaboom 42")
    assert "inner_helper" in failed["FailureReason"]
    log = ex.logs("Boom")
    assert "Traceback (most recent call last)" in log and "explode" in log and "inner_helper" in log
    with pytest.raises(ValueError, match="kaboom 42"):
        ex.result("Boom")


def test_in_process_exception_keeps_type(in_process_session):
    @step(name="Boom")
    def boom():
        raise KeyError("missing-thing")

    ex = Pipeline(name="boom-inproc", steps=[boom()], sagemaker_session=in_process_session).start()
    ex.wait()
    with pytest.raises(KeyError, match="missing-thing"):
        ex.result("Boom")


def test_crashing_worker_fails_only_its_step(session):
    @step(name="Crash")
    def crash():
        os.kill(os.getpid(), signal.SIGKILL)

    @step(name="Fine")
    def fine():
        return "ok"

    ex = Pipeline(name="crash", steps=[crash(), fine()], sagemaker_session=session).start()
    ex.wait()
    st = {s["StepName"]: s for s in ex.list_steps()}
    assert st["Fine"]["StepStatus"] == "Succeeded"
    assert st["Crash"]["StepStatus"] == "Failed"
    assert "killed by signal 9" in st["Crash"]["FailureReason"]


def test_condition_in_both_directions_with_parameters(session):
    threshold = ParameterFloat("Threshold", default_value=1.0)
    label = ParameterString("Label", default_value="x")

    @step(name="Score")
    def score():
        return 3

    cond = ConditionStep(
        name="Gate",
        conditions=[ConditionGreaterThanOrEqualTo(left=score(), right=threshold)],
        if_steps=[],
        else_steps=[FailStep(name="TooLow", error_message=Join(on="|", values=[label, threshold, True]))],
    )
    pipeline = Pipeline(name="gate", parameters=[threshold, label], steps=[cond], sagemaker_session=session)
    high = pipeline.start(parameters={"Threshold": 2})
    low = pipeline.start(parameters={"Threshold": "4.5", "Label": "lbl"})  # strings are cast, as by the service
    high.wait()
    low.wait()
    assert high.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert low.describe()["FailureReason"] == "lbl|4.5|true"
    assert {p["Name"]: p["Value"] for p in low.list_parameters()["PipelineParameters"]} == {
        "Threshold": "4.5",
        "Label": "lbl",
    }


def run_script(code, store, wait=True):
    env = dict(os.environ, SAGEPIPE_STORE=str(store), PYTHONPATH=os.pathsep.join([TESTS] + sys.path))
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, stdout=subprocess.PIPE, text=True, cwd=TESTS
    )
    if wait:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out
        return out
    return proc


def test_executions_listed_from_a_second_process(session, tmp_path):
    ex = abc_pipeline(session).start(parameters={"TrainParameter": 5})
    ex.wait()
    out = run_script(
        """
        import json
        from sagepipe.workflow.pipeline import Pipeline
        res = Pipeline(name="demo").list_executions()
        ex = res["PipelineExecutionSummaries"][0]
        print(json.dumps([ex["PipelineExecutionArn"], ex["PipelineExecutionStatus"]]))
        """,
        session.store_root,
    )
    assert json.loads(out.strip().splitlines()[-1]) == [ex.arn, "Succeeded"]


def test_owner_killed_mid_run_is_marked_failed(session):
    proc = run_script(
        """
        import time
        from sagepipe.workflow.function_step import step
        from sagepipe.workflow.pipeline import Pipeline

        @step(name="Long")
        def long():
            time.sleep(120)

        ex = Pipeline(name="orphan", steps=[long()]).start()
        print(ex.arn, flush=True)
        ex.wait()
        """,
        session.store_root,
        wait=False,
    )
    arn = proc.stdout.readline().strip()
    execution = _PipelineExecution(arn, session)
    deadline = time.time() + 30
    while statuses(execution).get("Long") != "Executing":
        assert time.time() < deadline
        time.sleep(0.05)
    assert execution.describe()["PipelineExecutionStatus"] == "Executing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    desc = execution.describe()
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert "process that ran it" in desc["FailureReason"] and "exited" in desc["FailureReason"]
    assert statuses(execution) == {"Long": "Failed"}


def test_stop_and_delete_from_another_process(session):
    """The owner is busy (not waiting): its scheduler still notices the stop request."""
    from sagepipe.exceptions import ValidationError

    proc = run_script(
        """
        import time
        from sagepipe.workflow.function_step import step
        from sagepipe.workflow.pipeline import Pipeline

        @step(name="Long")
        def long():
            time.sleep(120)

        ex = Pipeline(name="remote-stop", steps=[long()]).start()
        print(ex.arn, flush=True)
        time.sleep(120)  # busy with something else, never calls wait()
        """,
        session.store_root,
        wait=False,
    )
    try:
        arn = proc.stdout.readline().strip()
        execution = _PipelineExecution(arn, session)
        deadline = time.time() + 30
        while statuses(execution).get("Long") != "Executing":
            assert time.time() < deadline
            time.sleep(0.05)
        with pytest.raises(ValidationError, match="still running; stop it before deleting it"):
            session.store.delete_execution(arn)
        assert execution.stop() == {"PipelineExecutionArn": arn}
        deadline = time.time() + 15
        while execution.describe()["PipelineExecutionStatus"] != "Stopped":
            assert time.time() < deadline, execution.describe()
            time.sleep(0.05)
        assert statuses(execution) == {"Long": "Stopped"}
        session.store.delete_execution(arn)
        with pytest.raises(ResourceNotFoundError):
            execution.describe()
    finally:
        proc.kill()
        proc.wait()


def test_unknown_pipeline_and_execution_are_typed_errors(session):
    from sagepipe.exceptions import ResourceNotFoundError

    with pytest.raises(ResourceNotFoundError, match="does not exist"):
        Pipeline(name="nope", sagemaker_session=session).start()
    with pytest.raises(ResourceNotFoundError):
        _PipelineExecution("arn:aws:sagemaker:local:000000000000:pipeline/demo/execution/zzz", session).describe()
