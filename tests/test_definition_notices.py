"""Definition-time notices: the SDK's "No Wait, No Logs, and No Job" warning is given as the SDK
gives it to code that builds a pipeline itself, and hidden where sagepipe runs the pipeline file
(the CLI, ``python -m sagepipe.compat``, the demo), since the run that follows does wait and log;
no deprecation notice for what sagepipe itself does; the SDK's other notices ("Popping out
'ProcessingJobName'...") appear once per process, not every time a pipeline is built, compiled or
planned."""

import os
import subprocess
import sys
import textwrap
import warnings

import pytest
from sagepipe.demo import build_pipeline
from sagepipe.workflow.pipeline_context import PIPELINE_SESSION_NOTICE, PipelineSession
from sagepipe.workflow.steps import CreateModelStep


def test_building_the_abalone_pipeline_gives_only_the_sdks_pipeline_session_notice(tmp_path):
    """One "Running within a PipelineSession" UserWarning per job call (run, fit, transform, create,
    register), as the SDK warns, and no notice about CreateModelStep from the CreateModel step
    ModelStep adds itself (the user did write ModelStep)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline = build_pipeline(PipelineSession(store=tmp_path / "store"))
        pipeline.definition()
    assert {str(w.message) for w in caught} == {PIPELINE_SESSION_NOTICE}
    assert all(w.category is UserWarning for w in caught)
    # Preprocess and Evaluate run(), Train fit(), the model's create() and register(), Transform transform().
    assert len(caught) == 6


def test_one_job_call_records_exactly_one_notice(tmp_path):
    from sagepipe.sklearn.processing import SKLearnProcessor

    processor = SKLearnProcessor(
        framework_version="1.2-1",
        role="r",
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=PipelineSession(store=tmp_path / "store"),
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        processor.run(code="s3://b/code.py")
    assert [(w.category, str(w.message)) for w in caught] == [(UserWarning, PIPELINE_SESSION_NOTICE)]


def test_the_sagepipe_command_and_compat_runner_hide_the_notice(tmp_path):
    """The same pipeline file, run by sagepipe (where the run does wait and log), says nothing of it
    even with every warning enabled."""
    env = {**os.environ, "SAGEPIPE_STORE": str(tmp_path / "store")}
    plan = subprocess.run(
        [sys.executable, "-W", "always", "-m", "sagepipe", "plan", "sagepipe.demo:build_pipeline"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "Preprocess" in plan.stdout
    assert "Running within a PipelineSession" not in plan.stderr
    script = tmp_path / "build.py"
    script.write_text(
        "from sagepipe.demo import build_pipeline\n"
        "from sagepipe.workflow.pipeline_context import PipelineSession\n"
        "build_pipeline(PipelineSession()).definition()\n"
        "print('built')\n"
    )
    compat = subprocess.run(
        [sys.executable, "-W", "always", "-m", "sagepipe.compat", "--sdk", "mirror", str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert compat.returncode == 0, compat.stdout + compat.stderr
    assert "built" in compat.stdout
    assert "Running within a PipelineSession" not in compat.stderr


def test_a_user_written_create_model_step_still_gets_the_deprecation_notice(tmp_path):
    from sagepipe.model import Model

    session = PipelineSession(store=tmp_path / "store")
    model = Model(image_uri="img", model_data="s3://b/model.tar.gz", role="r", sagemaker_session=session)
    with pytest.warns(DeprecationWarning, match="deprecating the use of CreateModelStep"):
        CreateModelStep(name="Legacy", step_args=model.create(instance_type="ml.m5.large"))


BUILD_AND_PLAN_TWICE = textwrap.dedent(
    """
    import sys
    from sagepipe.demo import build_pipeline
    from sagepipe.workflow.pipeline_context import PipelineSession

    for _ in range(2):
        pipeline = build_pipeline(PipelineSession(store=sys.argv[1]))
        pipeline.definition()
        pipeline.definition()
        print(pipeline.plan())
    """
)


def test_definition_notices_appear_once_per_process(tmp_path):
    out = subprocess.run(
        [sys.executable, "-W", "always", "-c", BUILD_AND_PLAN_TWICE, str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Preprocess" in out.stdout and "run" in out.stdout  # the plans were printed
    for job_name in ("ProcessingJobName", "TrainingJobName", "TransformJobName"):
        assert out.stderr.count(f"Popping out '{job_name}'") == 1, out.stderr
    # A plain Python process building pipelines itself gets the SDK's notice.
    assert "No Job being started" in out.stderr
