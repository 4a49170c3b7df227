"""SDK v3 pipelines, unchanged, on sagepipe: the real ``sagemaker`` package (v3: ``sagemaker.core``,
``sagemaker.train``, ``sagemaker.mlops``) builds and starts them; its AWS calls (SageMaker, S3,
STS and IAM's role checks) are answered by the local store. Each script runs in its own process,
as a user runs it: ``sagepipe run --sdk real script.py`` or ``python -m sagepipe.compat``.
The conftest collects this file only where SDK v3 is installed.
"""

import json
import os
import subprocess
import sys

import pytest
from sdk_lib import CODE, DATA, SCRIPTS, execution_of, modules_used, run, sagepipe_run, steps_of

SCRIPT_FILES = ("abalone_v3.py", "step_v3.py", os.path.join("abalone_v3_ridge", "train.py"))


def test_the_scripts_do_not_refer_to_sagepipe():
    """The same files run on SageMaker when sagepipe is not installed."""
    for name in SCRIPT_FILES:
        imported, constants = modules_used(os.path.join(SCRIPTS, name))
        assert "sagepipe" not in imported, (name, imported)
        assert "sagepipe" not in constants
    for name in SCRIPT_FILES[:2]:
        with open(os.path.join(SCRIPTS, name)) as f:
            assert "from sagemaker.mlops.workflow" in f.read(), name  # the v3 module paths


def test_abalone_runs_then_a_selective_run_reuses_and_a_rerun_hits_the_cache(tmp_path):
    script = os.path.join(SCRIPTS, "abalone_v3.py")
    first = sagepipe_run(tmp_path, script, DATA, CODE)
    first_arn, status = execution_of(first)
    assert status == "Succeeded", first
    # v3's ModelStep keeps the names it is given (v2 appends -RegisterModel / -CreateModel).
    assert {n: s["status"] for n, s in steps_of(first).items()} == {
        "Preprocess": "Succeeded", "Train": "Succeeded", "TrainRidge": "Succeeded", "Evaluate": "Succeeded",
        "CheckMse": "Succeeded", "Register": "Succeeded", "CreateModel": "Succeeded", "Transform": "Succeeded",
    }  # fmt: skip

    # The SDK's SelectiveExecutionConfig, through StartPipelineExecution: Preprocess is reused, and
    # Train runs again (a new Eta misses the cache).
    selective = sagepipe_run(tmp_path, script, DATA, CODE, "--select", "Train,Evaluate,CheckMse", "--eta", "0.3")
    assert execution_of(selective)[1] == "Succeeded", selective
    steps = steps_of(selective)
    assert steps["Preprocess"]["reused"] == first_arn
    assert all(steps[n]["reused"] is None and steps[n]["cached"] is None for n in ("Train", "Evaluate", "CheckMse"))
    assert "Register" not in steps and "TrainRidge" not in steps  # not selected: not run, not listed

    # The script again: the SDK builds the same processing and built-in XGBoost requests (content-
    # hashed code keys, fixed output paths), so those cached steps hit the first run. A threshold
    # below the MSE takes the condition's else branch: the FailStep fails the execution.
    again = sagepipe_run(tmp_path, script, DATA, CODE, "--mse-threshold", "0.5", exit_code=1)  # a run failed
    assert execution_of(again)[1] == "Failed", again
    steps = steps_of(again)
    assert steps["Preprocess"]["cached"] == first_arn and steps["Train"]["cached"] == first_arn, again
    assert steps["CheckMse"]["status"] == "Succeeded" and "Register" not in steps
    assert steps["MseTooHigh"]["status"] == "Failed"
    assert steps["MseTooHigh"]["reason"] == "Execution failed due to MSE > 0.5", again

    # What SDK v3 built is stored like any pipeline: sagepipe's own commands read it.
    plan = json.loads(
        run(
            tmp_path, sys.executable, "-m", "sagepipe.cli", "plan", "abalone-real-sdk-v3", "--select", "Evaluate",
            "--json",
        )
    )  # fmt: skip
    actions = {row["step"]: row["action"] for row in plan["Steps"]}
    assert actions["Preprocess"] == actions["Train"] == "reuse" and actions["Evaluate"] == "run", plan


def test_a_step_pipeline_runs_the_sdks_own_job_driver(tmp_path):
    # As a CI runner's user: for a user other than root the SDK's bootstrap would `sudo chmod` the
    # job directories (and fail without sudo); the jobs sagepipe starts need no such step.
    out = run(
        tmp_path, sys.executable, "-m", "sagepipe.compat", "--sdk", "real", os.path.join(SCRIPTS, "step_v3.py"),
        "--select", LOGNAME="runner", USER="runner",
    )  # fmt: skip
    executions = [line.split() for line in out.splitlines() if line.startswith("EXECUTION ")]
    assert [status for _, _, status in executions] == ["Succeeded", "Succeeded"], out
    results = [line.split(" ", 2)[1:] for line in out.splitlines() if line.startswith("RESULT ")]
    assert results == [
        ["Prepare", json.dumps(list(range(10)))],
        ["Train", json.dumps({"score": 4.5, "n": 10})],
        ["Report", json.dumps("score=4.5")],
        # Selective: Train ran again with Size=20, on the Prepare output it reused (10 items).
        ["Train", json.dumps({"score": 4.5, "n": 10})],
    ], out
    second = [line.split() for line in out.splitlines() if line.startswith("STEP ")][-2:]
    assert sorted(second) == [["STEP", "Prepare", "Succeeded", executions[0][1]], ["STEP", "Train", "Succeeded", "-"]]

    # The stored pipeline again, from sagepipe's own command: its jobs read the SDK's payloads
    # from the store and the condition reads Train's results there.
    rerun = json.loads(run(tmp_path, sys.executable, "-m", "sagepipe.cli", "run", "step-real-sdk-v3", "--json"))
    assert rerun["PipelineExecutionStatus"] == "Succeeded", rerun
    assert {s["StepName"]: s["StepStatus"] for s in rerun["PipelineExecutionSteps"]} == {
        "Prepare": "Succeeded", "Train": "Succeeded", "GoodEnough": "Succeeded", "Report": "Succeeded",
    }  # fmt: skip


INSTALL_AFTER_IMPORT = """
import json, runpy, sys
script = runpy.run_path(sys.argv[1], run_name="step_v3")  # imports the SDK (which makes clients)
from sagemaker.core.workflow.pipeline_context import PipelineSession
session = PipelineSession()  # and its session's clients, all before install
import sagepipe
sagepipe.install(sdk="real")
pipeline = script["build"](session)
pipeline.upsert(role_arn=script["ROLE"])
execution = pipeline.start()
execution.wait()
print("RESULT", json.dumps(execution.result("Train")))
"""


def test_install_after_the_sdk_made_its_clients(tmp_path):
    """A notebook's order: the SDK imported and the session built first, then sagepipe.install().
    SDK v3 creates clients while importing, so it needs a region then (a configured one here)."""
    out = run(
        tmp_path, sys.executable, "-c", INSTALL_AFTER_IMPORT, os.path.join(SCRIPTS, "step_v3.py"),
        AWS_DEFAULT_REGION="us-east-1",
    )  # fmt: skip
    assert out.splitlines()[-1] == "RESULT " + json.dumps({"score": 4.5, "n": 10}), out


REQUIREMENTS_SCRIPT = """
import sys

from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.mlops.workflow.function_step import step
from sagemaker.mlops.workflow.pipeline import Pipeline

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/python-311:latest"
ROLE = "arn:aws:iam::123456789012:role/SageMakerPipelines"


@step(name="Needs", image_uri=IMAGE, role=ROLE, instance_type="ml.m5.large", dependencies=sys.argv[1])
def needs():
    import cloudpickle

    return cloudpickle.__name__


pipeline = Pipeline(name="requirements-" + sys.argv[2], steps=[needs()], sagemaker_session=PipelineSession())
pipeline.upsert(role_arn=ROLE)
execution = pipeline.start()
try:
    execution.wait(delay=1, max_attempts=600)
except Exception:  # the waiter raises for a failed execution; the step says why
    pass
for listed in execution.list_steps():
    print("STEP", listed["StepName"], listed["StepStatus"])
"""


@pytest.mark.parametrize("case", ["met", "unmet"])
def test_a_steps_requirements_install_nothing_when_met_and_fail_the_step_when_not(tmp_path, case):
    """v3's bootstrap pip-installs a @step's ``dependencies`` file; locally pip may not reach an
    index: met requirements install nothing, others fail the step naming the requirement."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("cloudpickle\n" if case == "met" else "no-such-package-sagepipe-test==1.0\n")
    script = tmp_path / "needs.py"
    script.write_text(REQUIREMENTS_SCRIPT)
    freeze = [sys.executable, "-m", "pip", "freeze"]
    before = subprocess.run(freeze, capture_output=True, text=True, check=True).stdout
    out = sagepipe_run(tmp_path, str(script), str(requirements), case, exit_code=0 if case == "met" else 1)
    if case == "met":
        assert "STEP Needs Succeeded" in out, out
    else:
        assert "STEP Needs Failed" in out, out
        log = run(tmp_path, sys.executable, "-m", "sagepipe.cli", "logs", "latest", "Needs")
        assert "No matching distribution found for no-such-package-sagepipe-test==1.0" in log, log
    assert subprocess.run(freeze, capture_output=True, text=True, check=True).stdout == before  # nothing installed
