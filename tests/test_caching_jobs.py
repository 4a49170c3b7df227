"""Caching of processing and training jobs, built with the SDK-shaped classes and run for real
(sandboxed scripts): same run again (hit), instance type change (hit), comment-only script edit
(hit), script edit (miss), hyperparameter change (miss), expiry (miss)."""

import json
import time

import pytest
from sagepipe.inputs import TrainingInput
from sagepipe.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagepipe.sklearn.estimator import SKLearn
from sagepipe.workflow.parameters import ParameterFloat, ParameterString
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.steps import CacheConfig, ProcessingStep, TrainingStep

ROLE = "arn:aws:iam::000000000000:role/local"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"

PREP = """\
import os
os.makedirs("/opt/ml/processing/train", exist_ok=True)
rows = open("/opt/ml/processing/input/data/rows.csv").read().split()
with open("/opt/ml/processing/train/rows.csv", "w") as f:
    f.write("\\n".join(str(int(r) * 2) for r in rows))
print("prepared", len(rows), "rows")
"""

TRAIN = """\
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--alpha", type=float)
a = p.parse_args()
rows = [float(x) for x in open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv")).read().split()]
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
    f.write(str(sum(rows) * a.alpha))
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prep.py").write_text(PREP)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(TRAIN)
    (tmp_path / "rows.csv").write_text("1\n2\n3\n")
    return tmp_path


def build(project, expire="T1H"):
    session = PipelineSession(default_bucket="bucket", store=project / "store")
    instance_type = ParameterString("InstanceType", default_value="ml.m5.xlarge")
    alpha = ParameterFloat("Alpha", default_value=0.5)
    cache = CacheConfig(enable_caching=True, expire_after=expire)
    processor = ScriptProcessor(
        role=ROLE,
        image_uri=IMAGE,
        command=["python3"],
        instance_count=1,
        instance_type=instance_type,
        sagemaker_session=session,
    )
    prep = ProcessingStep(
        name="Prep",
        step_args=processor.run(
            code="prep.py",
            inputs=[ProcessingInput(source=str(project / "rows.csv"), destination="/opt/ml/processing/input/data")],
            outputs=[ProcessingOutput(output_name="train", source="/opt/ml/processing/train")],
        ),
        cache_config=cache,
    )
    estimator = SKLearn(
        entry_point="train.py",
        source_dir="src",
        framework_version="1.2-1",
        image_uri=IMAGE,
        role=ROLE,
        instance_count=1,
        instance_type=instance_type,
        hyperparameters={"alpha": alpha},
        sagemaker_session=session,
    )
    train = TrainingStep(
        name="Train",
        step_args=estimator.fit(
            inputs={"train": TrainingInput(prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri)}
        ),
        cache_config=cache,
    )
    return Pipeline(
        name="cached-jobs", parameters=[instance_type, alpha], steps=[prep, train], sagemaker_session=session
    )


def run(pipeline, **parameters):
    execution = pipeline.start(parameters=parameters)
    execution.wait()
    records = {r["StepName"]: r for r in json.loads(pipeline._store.load_steps(execution.arn))}
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", {
        n: r.get("FailureReason") for n, r in records.items()
    }
    return execution, records


def hit_source(record):
    return (record.get("CacheHitResult") or {}).get("SourcePipelineExecutionArn")


def test_job_caching_hits_and_misses(project):
    first, rec = run(build(project))
    assert hit_source(rec["Prep"]) is None and "no earlier successful run" in rec["Prep"]["CacheMissReason"]
    first_model = rec["Train"]["Properties"]["ModelArtifacts"]["S3ModelArtifacts"]

    # Same inputs again: both jobs are cache hits of the first run.
    again, rec = run(build(project))
    assert hit_source(rec["Prep"]) == first.arn and hit_source(rec["Train"]) == first.arn
    assert rec["Train"]["Properties"]["ModelArtifacts"]["S3ModelArtifacts"] == first_model
    listed = {s["StepName"]: s for s in again.list_steps()}
    assert listed["Train"]["CacheHitResult"] == {"SourcePipelineExecutionArn": first.arn}
    assert "SelectiveExecutionResult" not in listed["Train"] or not listed["Train"]["SelectiveExecutionResult"]

    # The instance type is not part of SageMaker's cache key.
    _, rec = run(build(project), InstanceType="ml.c5.large")
    assert hit_source(rec["Prep"]) == first.arn and hit_source(rec["Train"]) == first.arn

    # A comment-only edit of the script does not count as a change of its code.
    (project / "prep.py").write_text("# reformatted\n" + PREP.replace("import os", "import os  # paths"))
    _, rec = run(build(project))
    assert hit_source(rec["Prep"]) == first.arn

    # A hyperparameter change misses Train only, and the miss says why.
    changed, rec = run(build(project), Alpha=0.75)
    assert hit_source(rec["Prep"]) == first.arn and hit_source(rec["Train"]) is None
    assert 'HyperParameters.alpha changed "0.5" -> "0.75"' in rec["Train"]["CacheMissReason"]

    # A real script edit misses Prep, and then Train (its input is Prep's new output).
    (project / "prep.py").write_text(PREP.replace("* 2", "* 3"))
    edited, rec = run(build(project), Alpha=0.75)
    assert hit_source(rec["Prep"]) is None and "script prep.py changed" in rec["Prep"]["CacheMissReason"]
    assert hit_source(rec["Train"]) is None and "InputDataConfig" in rec["Train"]["CacheMissReason"]

    # The latest matching run wins.
    _, rec = run(build(project), Alpha=0.75)
    assert hit_source(rec["Prep"]) == edited.arn and hit_source(rec["Train"]) == edited.arn


def test_job_cache_expires(project):
    first, _ = run(build(project, expire="PT1S"))
    time.sleep(1.2)
    plan = build(project, expire="PT1S").plan()
    assert plan["Prep"]["action"] == "run" and "older than ExpireAfter" in plan["Prep"]["reason"]
    _, rec = run(build(project, expire="PT1S"))
    assert hit_source(rec["Prep"]) is None and "older than ExpireAfter" in rec["Prep"]["CacheMissReason"]
