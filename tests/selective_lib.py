"""Helpers for the selective-execution tests (importable by worker processes).

Each step of the test pipeline calls :func:`act` with a work directory: it counts the step's
invocations in ``<workdir>/<Step>.count`` and behaves as ``<workdir>/<Step>.mode`` says
("bad": raise, "slow": sleep a long time, anything else or no file: return normally).
"""

import os
import time
import uuid

from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagepipe.workflow.fail_step import FailStep
from sagepipe.workflow.function_step import step
from sagepipe.workflow.functions import Join
from sagepipe.workflow.parameters import ParameterFloat
from sagepipe.workflow.pipeline import Pipeline

STEPS = ["Preprocess", "Train", "Evaluate", "Check", "Register", "Fail"]


def count(workdir: str, name: str) -> int:
    path = os.path.join(workdir, f"{name}.count")
    return int(open(path).read()) if os.path.exists(path) else 0


def set_mode(workdir: str, name: str, mode: str) -> None:
    with open(os.path.join(workdir, f"{name}.mode"), "w") as f:
        f.write(mode)


def act(workdir: str, name: str) -> int:
    n = count(workdir, name) + 1
    with open(os.path.join(workdir, f"{name}.count"), "w") as f:
        f.write(str(n))
    mode_path = os.path.join(workdir, f"{name}.mode")
    mode = open(mode_path).read().strip() if os.path.exists(mode_path) else "ok"
    if mode == "bad":
        raise RuntimeError(f"{name} failed: flag file says bad")
    if mode == "slow":
        time.sleep(120)
    return n


def preprocess_data(workdir: str):
    act(workdir, "Preprocess")
    size_path = os.path.join(workdir, "Preprocess.size")
    size = int(open(size_path).read()) if os.path.exists(size_path) else 0
    out = {"data": [1.0, 2.0, 3.0], "token": uuid.uuid4().hex}
    if size:
        out["blob"] = os.urandom(size)
    return out


def build(session, workdir: str, name: str = "selective-demo") -> Pipeline:
    """Preprocess -> Train -> Evaluate -> Check(if: Register, else: Fail with a Join message)."""
    workdir = str(workdir)
    lr = ParameterFloat("Lr", default_value=1.0)
    threshold = ParameterFloat("Threshold", default_value=5.0)

    @step(name="Preprocess")
    def preprocess(wd):
        return preprocess_data(wd)

    @step(name="Train")
    def train(pre, rate, wd):
        act(wd, "Train")
        return {"w": sum(pre["data"]) * rate, "token": pre["token"], "rate": rate}

    @step(name="Evaluate")
    def evaluate(model, wd):
        act(wd, "Evaluate")
        return {"score": model["w"], "token": model["token"], "rate": model["rate"]}

    @step(name="Register")
    def register(metrics, wd):
        act(wd, "Register")
        return f"registered model with score {metrics['score']}"

    ev = evaluate(train(preprocess(workdir), lr, workdir), workdir)
    check = ConditionStep(
        name="Check",
        conditions=[ConditionGreaterThanOrEqualTo(left=ev["score"], right=threshold)],
        if_steps=[register(ev, workdir)],
        else_steps=[FailStep(name="Fail", error_message=Join(on=" ", values=["score too low:", ev["score"]]))],
    )
    return Pipeline(name=name, parameters=[lr, threshold], steps=[check], sagemaker_session=session)
