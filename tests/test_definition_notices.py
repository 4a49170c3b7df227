"""Definition-time notices: the SDK's "No Wait, No Logs, and No Job" warning is false locally and
never shown, nor is a deprecation notice for what sagepipe itself does; the SDK's other notices
("Popping out 'ProcessingJobName'...") appear once per process, not every time a pipeline is
built, compiled or planned."""

import subprocess
import sys
import textwrap

import pytest
from sagepipe.demo import build_pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.steps import CreateModelStep


def test_building_the_abalone_pipeline_warns_nothing(recwarn, tmp_path):
    """No "Running within a PipelineSession" (false here), and no notice about CreateModelStep
    from the CreateModel step ModelStep adds itself (the user did write ModelStep)."""
    pipeline = build_pipeline(PipelineSession(store=tmp_path / "store"))
    pipeline.definition()
    assert [str(w.message) for w in recwarn] == []


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
    assert "No Job being started" not in out.stderr
