"""Framework processors (``FrameworkProcessor`` and each framework's), Data Wrangler and Spark.

Definitions are compared with what the real SDK v2 builds for the same pipelines
(``fixtures/framework_processors``, from ``gen_sdk.py``); framework jobs run for real: the
generated ``runproc.sh`` unpacks ``sourcedir.tar.gz`` and runs the entry point with this
environment's Python. Images with no local meaning (Data Wrangler, Spark) fail before anything
runs, naming the step.
"""

import json
import shutil
import textwrap
from pathlib import Path

import framework_processors_lib as lib
import pytest
from sagepipe import image_uris, local_runners, s3
from sagepipe.exceptions import UnsupportedStepError
from sagepipe.processing import FrameworkProcessor, ProcessingInput, ProcessingOutput
from sagepipe.sklearn.estimator import SKLearn
from sagepipe.sklearn.processing import SKLearnProcessor
from sagepipe.spark.processing import PySparkProcessor
from sagepipe.workflow.parameters import ParameterString
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.steps import ProcessingStep
from sagepipe.wrangler.processing import DataWranglerProcessor
from sagepipe.xgboost.processing import XGBoostProcessor

ROLE = lib.ROLE
COMMON = dict(role=ROLE, instance_type="ml.m5.xlarge", instance_count=1)


def _steps(execution) -> dict:
    return {s["StepName"]: s for s in execution.list_steps()}


def _stored(session, uri: str) -> Path:
    return Path(session.store.uri_to_path(uri))


def _write(root: Path, files: dict) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def _run(pipeline):
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    execution.wait(progress=False)
    return execution


# --------------------------------------------------------------------------------------------
# Definitions: the SDK's, byte for byte


def _definition_steps(builder, tmp_path, monkeypatch) -> list:
    lib.write_sources(tmp_path)
    monkeypatch.chdir(tmp_path)
    session = PipelineSession(store=tmp_path / "store", default_bucket=lib.BUCKET)
    return json.loads(builder("sagepipe", session).definition())["Steps"]


def test_framework_wrangler_and_spark_definitions_match_the_sdk(tmp_path, monkeypatch):
    expected = json.loads((lib.FIXTURES / "expected.json").read_text())
    assert _definition_steps(lib.build, tmp_path, monkeypatch) == expected


def test_deep_learning_processor_definitions_match_the_sdk(tmp_path, monkeypatch):
    # The framework estimators these processors pack their code with come with the estimator work.
    expected = json.loads((lib.FIXTURES / "expected_deep_learning.json").read_text())
    assert _definition_steps(lib.build_deep_learning, tmp_path, monkeypatch) == expected


def test_image_uris_the_processors_need_resolve_offline():
    assert image_uris.retrieve("data-wrangler", "us-east-1") == (
        "663277389841.dkr.ecr.us-east-1.amazonaws.com/sagemaker-data-wrangler-container:3.x"
    )
    spark = "173754725891.dkr.ecr.us-east-1.amazonaws.com/sagemaker-spark-processing"
    assert image_uris.retrieve("spark", "us-east-1", version="3.3", image_scope="processing") == f"{spark}:3.3-cpu"
    assert image_uris.retrieve("spark", "us-east-1", version="3.5", py_version="py39") == f"{spark}:3.5-cpu-py39"
    # No version: the newest, compared as numbers (2.19 after 2.9), as the SDK picks it.
    assert image_uris.retrieve("tensorflow", "us-east-1", instance_type="ml.m5.xlarge", image_scope="training") == (
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-training:2.19.0-cpu-py312"
    )


def test_code_given_as_a_pipeline_variable_is_refused(session):
    processor = FrameworkProcessor(
        estimator_cls=SKLearn, framework_version="1.2-1", sagemaker_session=session, **COMMON
    )
    code = ParameterString(name="Code", default_value="s3://bucket/code/process.py")
    step = ProcessingStep(name="Prep", step_args=processor.run(code=code))
    with pytest.raises(ValueError, match="code argument has to be a valid S3 URI or local file path"):
        Pipeline(name="P", parameters=[code], steps=[step], sagemaker_session=session).definition()


# --------------------------------------------------------------------------------------------
# Running framework jobs locally

SOURCE_DIR = {
    "src/process.py": """\
        import argparse
        import pathlib

        from helpers.scale import scale

        parser = argparse.ArgumentParser()
        parser.add_argument("--factor", type=int)
        args = parser.parse_args()
        numbers = [int(x) for x in pathlib.Path("/opt/ml/processing/input/data/numbers.txt").read_text().split()]
        out = pathlib.Path("/opt/ml/processing/scaled")
        (out / "scaled.txt").write_text(" ".join(str(n) for n in scale(numbers, args.factor)))
        print("scaled", len(numbers), "numbers")
        """,
    "src/helpers/__init__.py": "",
    "src/helpers/scale.py": """\
        from constants import OFFSET


        def scale(numbers, factor):
            return [n * factor + OFFSET for n in numbers]
        """,
    "deps/constants.py": "OFFSET = 1\n",
    "total.py": """\
        import pathlib

        numbers = pathlib.Path("/opt/ml/processing/input/scaled/scaled.txt").read_text().split()
        pathlib.Path("/opt/ml/processing/total/total.txt").write_text(str(sum(int(n) for n in numbers)))
        """,
    "numbers.txt": "1 2 3\n",
}


def test_source_dir_job_runs_its_entry_point_and_feeds_a_downstream_step(session, tmp_path, monkeypatch):
    _write(tmp_path, SOURCE_DIR)
    monkeypatch.chdir(tmp_path)
    processor = XGBoostProcessor(framework_version="1.7-1", sagemaker_session=session, **COMMON)
    scale = ProcessingStep(
        name="Scale",
        step_args=processor.run(
            code="process.py",
            source_dir="src",
            dependencies=["deps/constants.py"],
            arguments=["--factor", "10"],
            inputs=[ProcessingInput(source="numbers.txt", destination="/opt/ml/processing/input/data")],
            outputs=[ProcessingOutput(output_name="scaled", source="/opt/ml/processing/scaled")],
        ),
    )
    total = ProcessingStep(
        name="Total",
        step_args=SKLearnProcessor(framework_version="1.2-1", sagemaker_session=session, **COMMON).run(
            code="total.py",
            inputs=[
                ProcessingInput(
                    source=scale.properties.ProcessingOutputConfig.Outputs["scaled"].S3Output.S3Uri,
                    destination="/opt/ml/processing/input/scaled",
                )
            ],
            outputs=[ProcessingOutput(output_name="total", source="/opt/ml/processing/total")],
        ),
    )
    execution = _run(Pipeline(name="Scaling", steps=[scale, total], sagemaker_session=session))
    steps = _steps(execution)
    assert steps["Scale"]["StepStatus"] == "Succeeded", steps["Scale"].get("FailureReason")
    assert steps["Total"]["StepStatus"] == "Succeeded", steps["Total"].get("FailureReason")
    assert "scaled 3 numbers" in execution.logs("Scale")
    described = json.loads(session.store.load_steps(execution.arn))
    outputs = {
        s["StepName"]: s["Properties"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] for s in described
    }
    assert (_stored(session, outputs["Scale"]) / "scaled.txt").read_text() == "11 21 31"
    assert (_stored(session, outputs["Total"]) / "total.txt").read_text() == "63"


def test_s3_code_is_run_by_bash_as_the_sdk_runs_it(session, tmp_path):
    # With an S3 ``code`` the SDK packs nothing: the object itself is the job's bash entry point.
    script = "s3://bucket/scripts/run.sh"
    s3.S3Uploader.upload_string_as_file_body(
        'mkdir -p /opt/ml/processing/out\necho "ran with $*" > /opt/ml/processing/out/note.txt\n',
        desired_s3_uri=script,
        sagemaker_session=session,
    )
    processor = FrameworkProcessor(
        estimator_cls=SKLearn, framework_version="1.2-1", sagemaker_session=session, **COMMON
    )
    step = ProcessingStep(
        name="Shell",
        step_args=processor.run(
            code=script,
            arguments=["a", "b"],
            outputs=[ProcessingOutput(output_name="out", source="/opt/ml/processing/out")],
        ),
    )
    pipeline = Pipeline(name="ShellCode", steps=[step], sagemaker_session=session)
    app = json.loads(pipeline.definition())["Steps"][0]["Arguments"]["AppSpecification"]
    assert app["ContainerEntrypoint"] == ["/bin/bash", "/opt/ml/processing/input/entrypoint/run.sh"]
    execution = _run(pipeline)
    rec = _steps(execution)["Shell"]
    assert rec["StepStatus"] == "Succeeded", rec.get("FailureReason")
    props = json.loads(session.store.load_steps(execution.arn))[0]["Properties"]
    out = props["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert (_stored(session, out) / "note.txt").read_text() == "ran with a b\n"


def test_a_missing_framework_fails_the_step_with_its_own_import_error(session, tmp_path, monkeypatch):
    try:
        import torch  # noqa: F401

        pytest.skip("torch is installed here")
    except ImportError:
        pass
    from sagepipe.pytorch.processing import PyTorchProcessor

    _write(tmp_path, {"src/train.py": "import torch\n\nprint(torch.__version__)\n"})
    monkeypatch.chdir(tmp_path)
    processor = PyTorchProcessor(framework_version="2.1", py_version="py310", sagemaker_session=session, **COMMON)
    step = ProcessingStep(name="Torch", step_args=processor.run(code="train.py", source_dir="src"))
    execution = _run(Pipeline(name="NoTorch", steps=[step], sagemaker_session=session))
    rec = _steps(execution)["Torch"]
    assert rec["StepStatus"] == "Failed"
    assert "ModuleNotFoundError: No module named 'torch'" in rec["FailureReason"]
    assert "No module named 'torch'" in execution.logs("Torch")


# --------------------------------------------------------------------------------------------
# Images sagepipe cannot run: fail before anything runs


def test_spark_step_fails_before_anything_runs(session, tmp_path, monkeypatch):
    if shutil.which("smspark-submit"):
        pytest.skip("an smspark-submit is on this PATH")
    _write(tmp_path, {"app.py": "print('spark')\n", "first.py": "print('first')\n"})
    monkeypatch.chdir(tmp_path)
    first = ProcessingStep(
        name="First",
        step_args=SKLearnProcessor(framework_version="1.2-1", sagemaker_session=session, **COMMON).run(code="first.py"),
    )
    spark = ProcessingStep(
        name="Spark",
        step_args=PySparkProcessor(framework_version="3.3", sagemaker_session=session, **COMMON).run(
            submit_app="app.py"
        ),
        depends_on=[first],
    )
    pipeline = Pipeline(name="Sparky", steps=[first, spark], sagemaker_session=session)
    pipeline.upsert(role_arn=ROLE)
    with pytest.raises(UnsupportedStepError) as info:
        pipeline.start()
    message = str(info.value)
    assert "'Spark'" in message and "smspark-submit" in message and "PATH" in message
    assert pipeline.list_executions()["PipelineExecutionSummaries"] == []


FLOW_RUNNER = """\
    import json
    import pathlib

    flow = json.loads(pathlib.Path("/opt/ml/processing/flow/prep.flow").read_text())
    out = pathlib.Path("/opt/ml/processing/output")
    (out / "nodes.txt").write_text(str(len(flow["nodes"])))
    """


def test_data_wrangler_fails_before_anything_runs_until_a_runner_is_registered(session, tmp_path, monkeypatch):
    _write(tmp_path, {"prep.flow": json.dumps({"nodes": [1, 2]}), "runner.py": FLOW_RUNNER})
    monkeypatch.chdir(tmp_path)
    processor = DataWranglerProcessor(data_wrangler_flow_source="prep.flow", sagemaker_session=session, **COMMON)
    step = ProcessingStep(
        name="Wrangle",
        step_args=processor.run(outputs=[ProcessingOutput(output_name="out", source="/opt/ml/processing/output")]),
    )
    pipeline = Pipeline(name="Wrangling", steps=[step], sagemaker_session=session)
    pipeline.upsert(role_arn=ROLE)
    with pytest.raises(UnsupportedStepError) as info:
        pipeline.start()
    assert "'Wrangle'" in str(info.value) and processor.image_uri in str(info.value)

    local_runners.register_image(
        r"/sagemaker-data-wrangler-container:", command=["python3", str(tmp_path / "runner.py")]
    )
    try:
        execution = pipeline.start()
        execution.wait(progress=False)
    finally:
        local_runners.unregister_image(r"/sagemaker-data-wrangler-container:")
    rec = _steps(execution)["Wrangle"]
    assert rec["StepStatus"] == "Succeeded", rec.get("FailureReason")
    props = json.loads(session.store.load_steps(execution.arn))[0]["Properties"]
    out = props["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert (_stored(session, out) / "nodes.txt").read_text() == "2"


def test_without_namespaces_the_runproc_entry_point_is_refused_saying_why(session, tmp_path, monkeypatch):
    # runproc.sh (the SDK's text, hashed into its S3 key) cds into /opt/ml/processing/input/code.
    monkeypatch.setenv("SAGEPIPE_SANDBOX", "paths")
    _write(tmp_path, {"src/run.py": "print('hi')\n"})
    monkeypatch.chdir(tmp_path)
    processor = FrameworkProcessor(
        estimator_cls=SKLearn, framework_version="1.2-1", sagemaker_session=session, **COMMON
    )
    step = ProcessingStep(name="Run", step_args=processor.run(code="run.py", source_dir="src"))
    execution = _run(Pipeline(name="NoNamespaces", steps=[step], sagemaker_session=session))
    rec = _steps(execution)["Run"]
    assert rec["StepStatus"] == "Failed"
    assert "runproc.sh hard-codes /opt/ml paths" in rec["FailureReason"]
