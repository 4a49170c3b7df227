"""Pipelines for tests/test_plan_unrunnable.py (importable by step workers and CLI subprocesses).

``Cluster`` trains with the built-in k-means image, which has no local runner unless one is
registered; ``Report`` (a ``@step`` function) takes its model's URI.
"""

import os
import sys

from sagepipe import local_runners
from sagepipe.estimator import Estimator
from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.steps import TrainingStep

ROLE = "arn:aws:iam::111111111111:role/Training"
KMEANS_IMAGE = "174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1"
KMEANS_PATTERN = r"/kmeans:"
# What the registered stand-in for the k-means image does: write a model.
RUNNER = [
    sys.executable,
    "-c",
    "import os; open(os.path.join(os.environ['SM_MODEL_DIR'], 'model.txt'), 'w').write('centroids')",
]


@step(name="Report")
def report(model_uri):
    return f"model at {model_uri}"


def kmeans_pipeline(session) -> Pipeline:
    kmeans = Estimator(
        image_uri=KMEANS_IMAGE,
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        output_path="s3://my-bucket/kmeans",
        sagemaker_session=session,
    )
    train = TrainingStep(name="Cluster", step_args=kmeans.fit())
    summary = report(train.properties.ModelArtifacts.S3ModelArtifacts)
    return Pipeline(name="kmeans-plan", steps=[train, summary], sagemaker_session=session)


def pipeline_with_runner() -> Pipeline:
    """A CLI TARGET whose module registers the k-means runner, as a user's pipeline file can."""
    local_runners.register_image(KMEANS_PATTERN, command=RUNNER)
    return kmeans_pipeline(PipelineSession(store=os.environ["PLAN_STORE"]))
