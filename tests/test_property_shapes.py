"""Step properties follow the service's response shapes: real members exist, typos fail where the
pipeline is written (with the closest real name), lists and maps index, and a consuming step reads
an upstream step's property when the pipeline runs."""

import copy
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from sagepipe.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagepipe.workflow.functions import Join
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.properties import Properties, PropertiesList, PropertiesMap
from sagepipe.workflow.steps import ProcessingStep

ROOT = Path(__file__).resolve().parent.parent
SHAPES = ROOT / "python" / "sagepipe" / "data" / "property_shapes.json"


def test_shipped_shapes_match_the_generator(tmp_path):
    """The shipped JSON is what the generator makes from this botocore (rerun it after an upgrade)."""
    shipped = json.loads(SHAPES.read_text())
    import botocore

    if shipped["botocore"] != botocore.__version__:
        pytest.skip(f"shapes were generated with botocore {shipped['botocore']}, {botocore.__version__} installed")
    script = ROOT / "tests" / "fixtures" / "gen_property_shapes.py"
    copy_dir = tmp_path / "tests" / "fixtures"
    copy_dir.mkdir(parents=True)
    (copy_dir / script.name).write_text(script.read_text())
    (tmp_path / "python" / "sagepipe" / "data").mkdir(parents=True)
    subprocess.run([sys.executable, str(copy_dir / script.name)], check=True, capture_output=True)
    assert json.loads((tmp_path / "python" / "sagepipe" / "data" / SHAPES.name).read_text()) == shipped


def test_members_lists_and_maps():
    prop = Properties("Prep", shape_name="DescribeProcessingJobResponse")
    assert {"ProcessingJobStatus", "ProcessingOutputConfig", "ExitMessage"} <= set(vars(prop))
    outputs = prop.ProcessingOutputConfig.Outputs
    assert isinstance(outputs, PropertiesList)
    assert outputs["train"].S3Output.S3Uri.expr == {
        "Get": "Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }
    assert outputs[0].OutputName.expr == {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs[0].OutputName"}
    assert isinstance(prop.Environment, PropertiesMap)
    assert prop.Environment["KEY"].expr == {"Get": "Steps.Prep.Environment['KEY']"}

    train = Properties("Train", shape_name="DescribeTrainingJobResponse")
    assert train.ModelArtifacts.S3ModelArtifacts.expr == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert train.FinalMetricDataList["rmse"].Value.expr == {"Get": "Steps.Train.FinalMetricDataList['rmse'].Value"}
    tuning = Properties(
        "Tune",
        shape_names=["DescribeHyperParameterTuningJobResponse", "ListTrainingJobsForHyperParameterTuningJobResponse"],
    )
    assert tuning.BestTrainingJob.TrainingJobName.expr == {"Get": "Steps.Tune.BestTrainingJob.TrainingJobName"}
    assert tuning.TrainingJobSummaries[2].TrainingJobName.expr == {
        "Get": "Steps.Tune.TrainingJobSummaries[2].TrainingJobName"
    }
    emr = Properties("Emr", shape_name="Step", service_name="emr")
    assert emr.Status.State.expr == {"Get": "Steps.Emr.Status.State"}


def test_typos_raise_with_the_closest_name():
    prop = Properties("Prep", shape_name="DescribeProcessingJobResponse")
    with pytest.raises(
        AttributeError, match=r"Steps\.Prep .*no property 'ProcessingJobStatuss'; did you mean 'ProcessingJobStatus'\?"
    ):
        _ = prop.ProcessingJobStatuss
    with pytest.raises(AttributeError, match=r"did you mean 'S3Uri'"):
        _ = prop.ProcessingOutputConfig.Outputs["train"].S3Output.S3Url
    with pytest.raises(AttributeError, match="is a value and has no property 'Lower'"):
        _ = prop.ProcessingJobName.Lower
    with pytest.raises(TypeError, match="not a list or map"):
        _ = prop.ProcessingResources[0]
    assert not hasattr(prop, "Nope")
    # Without a known shape (a Lambda or callback output) any name is accepted.
    assert Properties("Cb").OutputParameters["x"].expr == {"Get": "Steps.Cb.OutputParameters['x']"}


def test_properties_pickle_and_copy_keep_their_shape():
    prop = Properties("Prep", shape_name="DescribeProcessingJobResponse")
    outputs = pickle.loads(pickle.dumps(prop.ProcessingOutputConfig.Outputs))
    assert isinstance(outputs, PropertiesList) and outputs._step is None
    assert outputs["a"].S3Output.S3Uri.expr == {"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['a'].S3Output.S3Uri"}
    with pytest.raises(AttributeError, match="did you mean 'S3Uri'"):
        _ = outputs["a"].S3Output.S3Urii
    assert copy.deepcopy(prop.ProcessingJobName).expr == {"Get": "Steps.Prep.ProcessingJobName"}


WRITE = """
import os
os.makedirs("/opt/ml/processing/out", exist_ok=True)
with open("/opt/ml/processing/out/message.txt", "w") as f:
    f.write("hello from upstream")
"""
READ = """
import glob, sys
print("upstream status:", sys.argv[1])
text = open(glob.glob("/opt/ml/processing/in/*")[0]).read()
assert text == "hello from upstream", text
print("read:", text)
"""


def test_a_consuming_step_reads_an_upstream_property_when_run(session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "write.py").write_text(WRITE)
    (tmp_path / "read.py").write_text(READ)

    def processor():
        return ScriptProcessor(
            image_uri="python:3",
            command=["python3"],
            role="arn:aws:iam::000000000000:role/r",
            instance_type="ml.m5.large",
            instance_count=1,
            sagemaker_session=session,
        )

    write = ProcessingStep(
        name="Write",
        step_args=processor().run(
            code="write.py", outputs=[ProcessingOutput(output_name="out", source="/opt/ml/processing/out")]
        ),
    )
    read = ProcessingStep(
        name="Read",
        step_args=processor().run(
            code="read.py",
            inputs=[
                ProcessingInput(
                    source=write.properties.ProcessingOutputConfig.Outputs["out"].S3Output.S3Uri,
                    destination="/opt/ml/processing/in",
                )
            ],
            arguments=[Join(on="", values=[write.properties.ProcessingJobStatus])],
        ),
    )
    pipeline = Pipeline(name="props", steps=[write, read], sagemaker_session=session)
    execution = pipeline.start()
    execution.wait()
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", execution.list_steps()
    assert "upstream status: Completed" in execution.logs("Read")

    with pytest.raises(AttributeError, match="did you mean 'ProcessingJobStatus'"):
        Join(on="", values=[write.properties.ProcessingJobStatuss])
