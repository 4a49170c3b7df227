"""SDK v2 pipelines, unchanged, on sagepipe: the real ``sagemaker`` package (v2) builds and starts
them; its AWS calls are answered by the local store. Each script runs in its own process, as a
user runs it: ``sagepipe run --sdk real script.py`` or with ``sagepipe.install(sdk="real")``.
"""

import json
import os
import subprocess
import sys

import pytest
from sdk_lib import CODE, DATA, SCRIPTS, deploy_real, execution_of, modules_used, run, sagepipe_run, steps_of


def test_the_scripts_do_not_refer_to_sagepipe():
    """The same files run on SageMaker when sagepipe is not installed."""
    for name in ("abalone_v2.py", "step_v2.py"):
        imported, constants = modules_used(os.path.join(SCRIPTS, name))
        assert "sagemaker" in imported and "sagepipe" not in imported, (name, imported)
        assert "sagepipe" not in constants


def test_abalone_runs_then_a_selective_run_reuses_and_a_rerun_hits_the_cache(tmp_path):
    script = os.path.join(SCRIPTS, "abalone_v2.py")
    first = sagepipe_run(tmp_path, script, DATA, CODE)
    first_arn, status = execution_of(first)
    assert status == "Succeeded", first
    steps = steps_of(first)
    assert {n: s["status"] for n, s in steps.items()} == {
        "Preprocess": "Succeeded", "Train": "Succeeded", "Evaluate": "Succeeded", "CheckMse": "Succeeded",
        "Register-RegisterModel": "Succeeded", "CreateModel-CreateModel": "Succeeded", "Transform": "Succeeded",
    }  # fmt: skip

    # The SDK's SelectiveExecutionConfig, through StartPipelineExecution: Preprocess is reused.
    selective = sagepipe_run(tmp_path, script, DATA, CODE, "--select", "Train,Evaluate,CheckMse", "--eta", "0.3")
    assert execution_of(selective)[1] == "Succeeded", selective
    steps = steps_of(selective)
    assert steps["Preprocess"]["reused"] == first_arn
    assert all(steps[n]["reused"] is None for n in ("Train", "Evaluate", "CheckMse"))
    assert "Register-RegisterModel" not in steps  # not selected, downstream: not run, not listed

    # The same definition again: the cached steps hit the first run.
    again = sagepipe_run(tmp_path, script, DATA, CODE)
    steps = steps_of(again)
    assert steps["Preprocess"]["cached"] == first_arn and steps["Train"]["cached"] == first_arn, again

    # What the SDK built is stored like any pipeline: sagepipe's own commands read it.
    plan = json.loads(
        run(
            tmp_path, sys.executable, "-m", "sagepipe.cli", "plan", "abalone-real-sdk", "--select", "Evaluate", "--json"
        )
    )
    actions = {row["step"]: row["action"] for row in plan["Steps"]}
    assert actions["Preprocess"] == actions["Train"] == "reuse" and actions["Evaluate"] == "run", plan


def test_a_step_pipeline_runs_the_sdks_own_job_driver(tmp_path):
    out = run(
        tmp_path, sys.executable, "-m", "sagepipe.compat", "--sdk", "real", os.path.join(SCRIPTS, "step_v2.py"),
        "--select",
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


REQUIREMENTS_SCRIPT = """
import sys

from sagemaker.workflow.function_step import step
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/python-311:latest"
ROLE = "arn:aws:iam::123456789012:role/SageMakerPipelines"


@step(name="Needs", image_uri=IMAGE, role=ROLE, instance_type="ml.m5.large", dependencies=sys.argv[1])
def needs():
    import cloudpickle

    return cloudpickle.__name__


pipeline = Pipeline(name="requirements-" + sys.argv[2], steps=[needs()], sagemaker_session=PipelineSession())
pipeline.upsert(role_arn=ROLE)
execution = pipeline.start()
execution.wait(delay=1, max_attempts=600) if sys.argv[2] == "met" else None
for listed in execution.list_steps():
    print("STEP", listed["StepName"], listed["StepStatus"], (listed.get("FailureReason") or "").replace(chr(10), " "))
"""


@pytest.mark.parametrize("case", ["met", "unmet"])
def test_a_steps_requirements_install_nothing_when_met_and_fail_the_step_when_not(tmp_path, case):
    """The SDK's bootstrap pip-installs a @step's requirements (and always adds the SDK itself);
    locally pip may not reach an index: met requirements install nothing, others fail the step."""
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
        log = run(tmp_path, sys.executable, "-m", "sagepipe.cli", "logs", "latest", "Needs")
        assert "No matching distribution found for no-such-package-sagepipe-test==1.0" in log, log
    assert subprocess.run(freeze, capture_output=True, text=True, check=True).stdout == before  # nothing installed


def test_get_execution_role_is_the_local_role(tmp_path):
    """Scripts written for notebooks start with sagemaker.get_execution_role(): the SDK derives
    the role from STS's assumed-role identity and reads it back with IAM, both answered here."""
    code = "import sagepipe; sagepipe.install(sdk='real'); import sagemaker; print(sagemaker.get_execution_role())"
    out = run(tmp_path, sys.executable, "-c", code)
    assert out.strip().splitlines()[-1] == "arn:aws:iam::000000000000:role/SageMakerExecutionRole"


FLAKY_SCRIPT = """
import os
import sys

from sagemaker.workflow.function_step import step
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/python-311:latest"
ROLE = "arn:aws:iam::123456789012:role/SageMakerPipelines"
MARKER = sys.argv[1]


@step(name="Prepare", image_uri=IMAGE, role=ROLE, instance_type="ml.m5.large")
def prepare():
    with open(MARKER + ".prepared", "a") as f:
        f.write("ran\\n")
    return 20


@step(name="Flaky", image_uri=IMAGE, role=ROLE, instance_type="ml.m5.large")
def flaky(value):
    if not os.path.exists(MARKER):
        raise RuntimeError("the marker file is not there yet")
    return value + 1


pipeline = Pipeline(name="flaky-real-sdk", steps=[flaky(prepare())], sagemaker_session=PipelineSession())
pipeline.upsert(role_arn=ROLE)
pipeline.start()
"""


def test_a_failed_run_of_an_sdk_pipeline_resumes_by_name(tmp_path):
    """sagepipe's resume works on what the real SDK built: the failed step and what follows run
    again, the steps that succeeded are reused."""
    marker = tmp_path / "marker"
    script = tmp_path / "flaky.py"
    script.write_text(FLAKY_SCRIPT)
    sagepipe_run(tmp_path, str(script), str(marker), exit_code=1)
    failed = json.loads(run(tmp_path, sys.executable, "-m", "sagepipe.cli", "steps", "latest", "--json"))
    reasons = {s["StepName"]: (s["StepStatus"], s.get("FailureReason") or "") for s in failed}
    assert reasons["Prepare"][0] == "Succeeded" and reasons["Flaky"][0] == "Failed", reasons
    marker.write_text("now")
    resumed = json.loads(
        run(tmp_path, sys.executable, "-m", "sagepipe.cli", "run", "flaky-real-sdk", "--resume", "latest", "--json")
    )
    assert resumed["PipelineExecutionStatus"] == "Succeeded", resumed
    steps = {s["StepName"]: s for s in resumed["PipelineExecutionSteps"]}
    assert "SelectiveExecutionResult" in steps["Prepare"] and "SelectiveExecutionResult" not in steps["Flaky"]
    assert (tmp_path / "marker.prepared").read_text() == "ran\n"  # Prepare ran once, in the failed run


DEPLOYED_MODULE = """
import os
from sagemaker.processing import ProcessingOutput, ScriptProcessor
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.workflow.steps import ProcessingStep

HERE = os.path.dirname(os.path.abspath(__file__))


def build():
    session = PipelineSession()
    processor = ScriptProcessor(
        image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        command=["python3"], role="arn:aws:iam::000000000000:role/SageMakerRole",
        instance_type="ml.m5.xlarge", instance_count=1, sagemaker_session=session,
    )
    step = ProcessingStep(
        name="Prep",
        step_args=processor.run(
            code=os.path.join(HERE, "prep.py"),
            outputs=[ProcessingOutput(output_name="out", source="/opt/ml/processing/out")],
        ),
    )
    return Pipeline(name="deployed-from-the-sdk", steps=[step], sagemaker_session=session)
"""


def test_deploy_puts_what_the_sdk_built_on_sagemaker(tmp_path, moto_env):
    """`sagepipe deploy --sdk real`: the SDK builds the definition (its code uploaded to the local
    store, as every local run does) and sagepipe puts it on SageMaker: moto's server on a loopback
    address here, configured as AWS is."""
    (tmp_path / "prep.py").write_text("print('prep')\n")
    (tmp_path / "deployed.py").write_text(DEPLOYED_MODULE)
    answer, clients = deploy_real(tmp_path, f"{tmp_path / 'deployed.py'}:build", moto_env)
    (upload,) = answer["Uploads"]
    assert upload["Local"].endswith("/prep.py") and "000000000000" in upload["Local"]
    bucket, key = upload["S3Uri"][len("s3://") :].split("/", 1)
    assert clients["s3"].get_object(Bucket=bucket, Key=key)["Body"].read() == b"print('prep')\n"
    definition = clients["sagemaker"].describe_pipeline(PipelineName="deployed-from-the-sdk")["PipelineDefinition"]
    assert upload["S3Uri"] in definition and "000000000000" not in definition
    assert bucket == "sagemaker-us-east-1-123456789012" and f'"{bucket}"' in definition  # the outputs' Join
