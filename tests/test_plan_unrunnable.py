"""A plan tells the truth about steps that cannot run locally.

A selected step that ``start()`` would refuse (a built-in algorithm image with no runner, an
AWS-side step type with no handler) is planned ``refused`` with the reason ``start()`` gives, and
the plan carries the error ``start()`` raises. A step reused from a reference is fine; a
registered image runner or step-type handler makes the step plan as ``run``. The engine makes
both decisions with one check.
"""

import json
import os
import subprocess
import sys

import plan_unrunnable_lib as lib
import pytest
from sagepipe import display, local_runners
from sagepipe.exceptions import UnsupportedStepError
from sagepipe.model_monitor import DatasetFormat
from sagepipe.workflow.check_job_config import CheckJobConfig
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.quality_check_step import DataQualityCheckConfig, QualityCheckStep
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def kmeans_session(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    return PipelineSession(store=tmp_path / "store", default_bucket="my-bucket")


@pytest.fixture
def kmeans_runner():
    """The k-means image runs locally while this fixture is active."""
    local_runners.register_image(lib.KMEANS_PATTERN, command=lib.RUNNER)
    yield
    local_runners.unregister_image(lib.KMEANS_PATTERN)


def start_refusal(pipeline, **kwargs) -> str:
    with pytest.raises(UnsupportedStepError) as info:
        pipeline.start(**kwargs)
    return str(info.value)


def test_plan_shows_the_step_start_refuses_with_starts_reason(kmeans_session):
    pipeline = lib.kmeans_pipeline(kmeans_session)
    plan = pipeline.plan()
    assert plan.actions() == {"Cluster": "refused", "Report": "run"}
    reason = plan["Cluster"]["reason"]
    assert reason.startswith("step 'Cluster' trains with the SageMaker built-in algorithm 'kmeans'")
    assert lib.KMEANS_IMAGE in reason and 'register_image(r"/kmeans:"' in reason

    refusal = start_refusal(pipeline)
    assert plan.refused == refusal  # the very error start() raises
    assert reason in refusal
    assert pipeline.list_executions()["PipelineExecutionSummaries"] == []

    text = str(plan)
    cluster_line = next(line for line in text.splitlines() if line.strip().startswith("Cluster"))
    assert "refused" in cluster_line and reason in cluster_line
    assert text.splitlines()[-1] == (
        "this run would be refused before anything runs: 1 step cannot run locally (Cluster)"
    )
    assert display.plan_states(plan)["Cluster"]["state"] == "refused"
    html = display.plan_html(plan)
    assert display.STATE_COLOURS["refused"] in html and "would be refused before anything runs" in html


def test_a_plan_with_nothing_refused_says_nothing_about_refusal(kmeans_session, kmeans_runner):
    pipeline = lib.kmeans_pipeline(kmeans_session)
    plan = pipeline.plan()
    assert plan.actions() == {"Cluster": "run", "Report": "run"}
    assert plan["Cluster"]["reason"] == "full run"
    assert plan.refused is None
    assert "refused" not in str(plan)


def test_reused_step_is_fine_and_a_selected_one_is_refused(kmeans_session, kmeans_runner):
    pipeline = lib.kmeans_pipeline(kmeans_session)
    reference = pipeline.start()
    reference.wait()
    assert reference.describe()["PipelineExecutionStatus"] == "Succeeded"
    local_runners.unregister_image(lib.KMEANS_PATTERN)  # from here on, k-means cannot run

    only_report = SelectiveExecutionConfig(source_pipeline_execution_arn=reference.arn, selected_steps=["Report"])
    plan = pipeline.plan(selective_execution_config=only_report)
    assert plan.actions() == {"Cluster": "reuse", "Report": "run"}
    assert plan.refused is None
    execution = pipeline.start(selective_execution_config=only_report)
    execution.wait()
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"

    with_cluster = SelectiveExecutionConfig(
        source_pipeline_execution_arn=reference.arn, selected_steps=["Cluster", "Report"]
    )
    plan = pipeline.plan(selective_execution_config=with_cluster)
    assert plan.actions() == {"Cluster": "refused", "Report": "run"}
    assert plan.refused == start_refusal(pipeline, selective_execution_config=with_cluster)


def quality_pipeline(session) -> Pipeline:
    job = CheckJobConfig(role=lib.ROLE, sagemaker_session=session)
    quality = QualityCheckStep(
        name="DataQuality",
        quality_check_config=DataQualityCheckConfig(
            baseline_dataset="s3://my-bucket/baseline/data.csv",
            dataset_format=DatasetFormat.csv(header=False),
            output_s3_uri="s3://my-bucket/dq/out",
        ),
        check_job_config=job,
    )
    summary = lib.report(quality.properties.CalculatedBaselineConstraints)
    return Pipeline(name="quality-plan", steps=[quality, summary], sagemaker_session=session)


def test_aws_side_step_type_is_refused_unless_a_handler_is_registered(kmeans_session):
    pipeline = quality_pipeline(kmeans_session)
    plan = pipeline.plan()
    assert plan.actions() == {"DataQuality": "refused", "Report": "run"}
    assert "of type QualityCheck has no local meaning" in plan["DataQuality"]["reason"]
    assert plan.refused == start_refusal(pipeline)

    local_runners.register_step_type("QualityCheck", lambda task: {"ok": True})
    try:
        plan = pipeline.plan()
    finally:
        local_runners.unregister_step_type("QualityCheck")
    assert plan.actions() == {"DataQuality": "run", "Report": "run"}
    assert plan.refused is None


def run_cli(store, *args, cwd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")]), PLAN_STORE=store)
    cmd = [sys.executable, "-m", "sagepipe.cli", "plan", "--store", store, *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_cli_plan_shows_the_refusal(kmeans_session, tmp_path):
    pipeline = lib.kmeans_pipeline(kmeans_session)
    pipeline.upsert(role_arn=lib.ROLE)
    refusal = start_refusal(pipeline)
    store = str(kmeans_session.store.root)

    text = run_cli(store, pipeline.name, cwd=str(tmp_path))
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert any(line.split()[:2] == ["Cluster", "refused"] for line in lines), text.stdout
    assert "built-in algorithm 'kmeans'" in text.stdout
    assert lines[-1] == "this run would be refused before anything runs: 1 step cannot run locally (Cluster)"

    as_json = run_cli(store, pipeline.name, "--json", cwd=str(tmp_path))
    assert as_json.returncode == 0, as_json.stderr
    answer = json.loads(as_json.stdout)
    assert answer["Refused"] == refusal
    assert {s["step"]: s["action"] for s in answer["Steps"]} == {"Cluster": "refused", "Report": "run"}

    # A pipeline file that registers a runner for the image plans the step as run.
    with_runner = run_cli(store, "plan_unrunnable_lib:pipeline_with_runner", "--json", cwd=str(tmp_path))
    assert with_runner.returncode == 0, with_runner.stderr
    answer = json.loads(with_runner.stdout)
    assert answer["Refused"] is None
    assert {s["step"]: s["action"] for s in answer["Steps"]} == {"Cluster": "run", "Report": "run"}
