"""The README's main job: the Abalone pipeline, run in full, then a Selective Execution of
Train + Evaluate with new hyperparameters that reuses Preprocess from the first run.

    python -m sagepipe.demo [--store DIR]

Pure Python (no numpy needed): ridge regression of the rings on the other columns.
"""

import argparse
import csv
import os
import random
import tempfile
import time
from typing import Dict, List

from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.conditions import ConditionLessThanOrEqualTo
from sagepipe.workflow.fail_step import FailStep
from sagepipe.workflow.function_step import step
from sagepipe.workflow.functions import Join
from sagepipe.workflow.parameters import ParameterFloat, ParameterString
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "abalone.csv")


@step(name="Preprocess", display_name="Split and encode the Abalone data")
def preprocess(input_path: str) -> Dict[str, List[List[float]]]:
    rows = []
    with open(input_path) as f:
        for sex, *numbers in csv.reader(f):
            onehot = [float(sex == s) for s in "MFI"]
            *features, rings = map(float, numbers)
            rows.append(onehot + features + [rings])
    random.Random(42).shuffle(rows)
    cut = int(len(rows) * 0.8)
    return {"train": rows[:cut], "test": rows[cut:]}


def _solve(a: List[List[float]], b: List[float]) -> List[float]:
    """Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for c in range(col, n + 1):
                m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


@step(name="Train", display_name="Ridge regression")
def train(data: Dict[str, List[List[float]]], alpha: float) -> List[float]:
    rows = data["train"]
    xs = [[1.0] + r[:-1] for r in rows]
    ys = [r[-1] for r in rows]
    k = len(xs[0])
    xtx = [[sum(x[i] * x[j] for x in xs) + (alpha if i == j and i > 0 else 0.0) for j in range(k)] for i in range(k)]
    xty = [sum(x[i] * y for x, y in zip(xs, ys)) for i in range(k)]
    weights = _solve(xtx, xty)
    print(f"trained on {len(rows)} rows with alpha={alpha}")
    return weights


@step(name="Evaluate", display_name="Test-set MSE")
def evaluate(data: Dict[str, List[List[float]]], weights: List[float]) -> Dict[str, float]:
    errors = [(sum(w * x for w, x in zip(weights, [1.0] + r[:-1])) - r[-1]) ** 2 for r in data["test"]]
    return {"mse": sum(errors) / len(errors)}


@step(name="Register", display_name="Record the accepted model")
def register(weights: List[float], metrics: Dict[str, float]) -> str:
    return f"model accepted: mse={metrics['mse']:.3f}, {len(weights)} weights"


def build_pipeline(session: PipelineSession) -> Pipeline:
    input_data = ParameterString("InputData", default_value=DATA)
    alpha = ParameterFloat("RidgeAlpha", default_value=1.0)
    threshold = ParameterFloat("MseThreshold", default_value=6.0)
    data = preprocess(input_data)
    weights = train(data, alpha)
    metrics = evaluate(data, weights)
    check = ConditionStep(
        name="CheckMSE",
        conditions=[ConditionLessThanOrEqualTo(left=metrics["mse"], right=threshold)],
        if_steps=[register(weights, metrics)],
        else_steps=[FailStep(name="MseTooHigh", error_message=Join(on=" ", values=["MSE above", threshold]))],
    )
    return Pipeline(
        name="abalone-demo",
        parameters=[input_data, alpha, threshold],
        steps=[check],
        sagemaker_session=session,
    )


def show(title: str, execution, seconds: float) -> None:
    desc = execution.describe()
    print(f"\n{title}: {desc['PipelineExecutionStatus']} in {seconds:.2f} s  ({execution.arn})")
    for s in reversed(execution.list_steps()):
        took = (s["EndTime"] - s["StartTime"]).total_seconds() if s.get("EndTime") else 0.0
        note = ""
        if s.get("SelectiveExecutionResult"):
            note = "reused from " + s["SelectiveExecutionResult"]["SourcePipelineExecutionArn"].rsplit("/", 1)[-1]
        elif s.get("Metadata", {}).get("Condition"):
            note = "outcome " + s["Metadata"]["Condition"]["Outcome"]
        print(f"  {s['StepName']:<12} {s['StepStatus']:<10} {took:>6.2f} s  {note}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="store directory (default: a temporary one)")
    args = parser.parse_args(argv)
    store = args.store or tempfile.mkdtemp(prefix="sagepipe-demo-")
    session = PipelineSession(store=store)
    pipeline = build_pipeline(session)
    pipeline.upsert(role_arn="arn:aws:iam::000000000000:role/demo")
    print(f"store: {store}")

    t0 = time.perf_counter()
    full = pipeline.start()
    full.wait()
    show("full run", full, time.perf_counter() - t0)
    print("  Evaluate ->", full.result("Evaluate"))

    config = SelectiveExecutionConfig(source_pipeline_execution_arn=full.arn, selected_steps=["Train", "Evaluate"])
    parameters = pipeline.build_parameters_from_execution(full.arn, {"RidgeAlpha": 25.0})
    print("\n" + str(pipeline.plan(selective_execution_config=config)))
    t0 = time.perf_counter()
    rerun = pipeline.start(selective_execution_config=config, parameters=parameters)
    rerun.wait()
    show("selective re-run of Train + Evaluate with RidgeAlpha=25", rerun, time.perf_counter() - t0)
    print("  Evaluate ->", rerun.result("Evaluate"))
    ok = full.describe()["PipelineExecutionStatus"] == "Succeeded"
    return 0 if ok and rerun.describe()["PipelineExecutionStatus"] == "Succeeded" else 1


if __name__ == "__main__":
    raise SystemExit(main())
