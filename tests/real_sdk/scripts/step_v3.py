"""A ``@step`` pipeline for the SageMaker Python SDK v3, written as users write it (nothing here
refers to sagepipe): Prepare -> Train -> a ConditionStep on Train's result -> Report or a FailStep.

    python step_v3.py            # run it, print each step's result
    python step_v3.py --select   # then a Selective Execution of Train, reusing Prepare

Prints ``RESULT <step> <json>`` lines and ``EXECUTION <arn> <status>``.
"""

import json
import sys

from sagemaker.core.workflow.conditions import ConditionGreaterThan
from sagemaker.core.workflow.parameters import ParameterInteger
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.mlops.workflow.condition_step import ConditionStep
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.function_step import step
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.selective_execution_config import SelectiveExecutionConfig

ROLE = "arn:aws:iam::123456789012:role/SageMakerPipelines"
# Function steps on Python 3.11 need an image of that Python version.
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/python-311:latest"

size = ParameterInteger(name="Size", default_value=10)


@step(name="Prepare", instance_type="ml.m5.large", image_uri=IMAGE, role=ROLE)
def prepare(n):
    return list(range(n))


@step(name="Train", instance_type="ml.m5.large", image_uri=IMAGE, role=ROLE)
def train(data):
    return {"score": sum(data) / max(len(data), 1), "n": len(data)}


@step(name="Report", instance_type="ml.m5.large", image_uri=IMAGE, role=ROLE)
def report(model):
    return f"score={model['score']}"


def build(session):
    model = train(prepare(size))
    check = ConditionStep(
        name="GoodEnough",
        conditions=[ConditionGreaterThan(left=model["score"], right=1)],
        if_steps=[report(model)],
        else_steps=[FailStep(name="TooLow", error_message="score too low")],
    )
    return Pipeline(name="step-real-sdk-v3", parameters=[size], steps=[check], sagemaker_session=session)


def show(execution, steps):
    execution.wait(delay=5, max_attempts=120)
    print("EXECUTION", execution.arn, execution.describe()["PipelineExecutionStatus"])
    for name in steps:
        print("RESULT", name, json.dumps(execution.result(name)))
    for listed in execution.list_steps():
        reused = listed.get("SelectiveExecutionResult", {}).get("SourcePipelineExecutionArn")
        print("STEP", listed["StepName"], listed["StepStatus"], reused or "-")


if __name__ == "__main__":
    pipeline = build(PipelineSession())
    pipeline.upsert(role_arn=ROLE)
    first = pipeline.start()
    show(first, ["Prepare", "Train", "Report"])
    if "--select" in sys.argv:
        config = SelectiveExecutionConfig(source_pipeline_execution_arn=first.arn, selected_steps=["Train"])
        show(pipeline.start(parameters={"Size": 20}, selective_execution_config=config), ["Train"])
