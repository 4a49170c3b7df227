"""Pipelines for the CLI tests (importable as ``cli_lib:pipeline`` by the CLI subprocesses).

``CLI_WORKDIR`` names a directory: ``<Step>.count`` files count invocations, ``Train.mode``
says "bad" (raise) or "slow" (sleep long).
"""

import os
import time

from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.conditions import ConditionLessThan
from sagepipe.workflow.fail_step import FailStep
from sagepipe.workflow.function_step import step
from sagepipe.workflow.functions import Join
from sagepipe.workflow.parameters import ParameterFloat
from sagepipe.workflow.pipeline import Pipeline


def _count(workdir: str, name: str) -> None:
    path = os.path.join(workdir, f"{name}.count")
    n = int(open(path).read()) + 1 if os.path.exists(path) else 1
    with open(path, "w") as f:
        f.write(str(n))


def _mode(workdir: str, name: str) -> str:
    path = os.path.join(workdir, f"{name}.mode")
    return open(path).read().strip() if os.path.exists(path) else "ok"


@step(name="Prepare")
def prepare(workdir):
    _count(workdir, "Prepare")
    print("prepared 3 rows")
    return [1.0, 2.0, 3.0]


@step(name="Train")
def train(rows, lr, workdir):
    _count(workdir, "Train")
    print(f"training with lr={lr}")
    if _mode(workdir, "Train") == "bad":
        raise RuntimeError("Train.mode says bad")
    if _mode(workdir, "Train") == "slow":
        time.sleep(120)
    return {"loss": sum(rows) / lr}


def pipeline() -> Pipeline:
    workdir = os.environ["CLI_WORKDIR"]
    lr = ParameterFloat("Lr", default_value=1.0)
    model = train(prepare(workdir), lr, workdir)
    check = ConditionStep(
        name="LossOk",
        conditions=[ConditionLessThan(left=model["loss"], right=100)],
        if_steps=[],
        else_steps=[FailStep(name="LossTooHigh", error_message=Join(on=" ", values=["loss", model["loss"]]))],
    )
    return Pipeline(name="cli-demo", parameters=[lr], steps=[check])


def pipeline_in(workdir, learning_rate) -> Pipeline:
    """A TARGET function that needs arguments (the CLI calls targets without any)."""
    os.environ["CLI_WORKDIR"] = workdir
    return pipeline()


PARAMETER_ONLY_DEFINITION = {
    "Version": "2020-12-01",
    "Metadata": {},
    "Parameters": [{"Name": "Threshold", "Type": "Integer", "DefaultValue": 1}],
    "PipelineExperimentConfig": None,
    "Steps": [
        {
            "Name": "Gate",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [{"Type": "GreaterThanOrEqualTo", "LeftValue": {"Get": "Parameters.Threshold"},
                                "RightValue": 5}],
                "IfSteps": [],
                "ElseSteps": [{"Name": "Below", "Type": "Fail", "Arguments": {"ErrorMessage": "below 5"}}],
            },
        }
    ],
}  # fmt: skip
