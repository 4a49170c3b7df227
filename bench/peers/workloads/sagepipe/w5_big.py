"""W5 sagepipe: build, validate and plan a selective run of the 5,000-step layered DAG
(common.layered_dag: each step up to 4 parents).
argv: step|lambda [prepare].
  step:   @step functions wired by their results (the native way). t_build = decorating and
          calling 5,000 functions + Pipeline(...); t_validate = definition() (the SDK's JSON)
          + the engine's validation (_core.compile_definition); t_plan = pipeline.plan() of a
          selective re-run of common.rerun_selection (2,307 steps) against a full run of the
          same pipeline. `prepare` (untimed, once) runs that full reference execution.
  lambda: LambdaSteps wired by depends_on: the same definition the real SDK builds
          (../sagemaker2/w5_big.py), so t_build + t_validate compare 1:1 with the SDK's
          definition(). No plan (a reference run would need Lambda)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import RUNS, Timer, emit, layered_dag, rerun_selection

T0 = time.perf_counter()
from sagepipe import _core
from sagepipe.lambda_helper import Lambda
from sagepipe.workflow.function_step import step
from sagepipe.workflow.lambda_step import LambdaStep
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

T_IMPORT = time.perf_counter() - T0
from _sp import session, succeeded

STORE = os.path.join(RUNS, "sagepipe-w5")
REFERENCE = os.path.join(STORE, "reference_execution_arn")
LAMBDA_ARN = "arn:aws:lambda:us-east-1:000000000000:function:noop"


def node(*parents):
    return 0


def build_steps(dag, sess):
    outs = {}
    for name, parents in dag:
        outs[name] = step(name=name)(node)(*[outs[p] for p in parents])
    leaves = set(outs) - {p for _, ps in dag for p in ps}
    return Pipeline(name="big5000", steps=[outs[n] for n in sorted(leaves)], sagemaker_session=sess)


def build_lambdas(dag, sess):
    fn = Lambda(function_arn=LAMBDA_ARN)
    steps = [LambdaStep(name=name, lambda_func=fn, depends_on=list(parents) or None) for name, parents in dag]
    return Pipeline(name="big5000-lambda", steps=steps, sagemaker_session=sess)


if __name__ == "__main__":
    kind = sys.argv[1]
    dag = layered_dag()
    sess = session(STORE, "in_process")
    if len(sys.argv) > 2 and sys.argv[2] == "prepare":
        if not os.path.exists(REFERENCE):
            pipe = build_steps(dag, sess)
            execution = pipe.start()
            execution.wait()
            succeeded(execution)
            with open(REFERENCE, "w") as f:
                f.write(execution.arn)
        sys.exit(0)
    start, selected = rerun_selection(dag)
    with Timer() as tb:
        pipe = (build_steps if kind == "step" else build_lambdas)(dag, sess)
    with Timer() as tv:
        definition = pipe.definition()
        summary = _core.compile_definition(definition, pipe.name)
    assert f'"{dag[-1][0]}"' in summary
    t_plan, planned = 0.0, 0
    if kind == "step":
        with open(REFERENCE) as f:
            config = SelectiveExecutionConfig(selected_steps=selected, source_pipeline_execution_arn=f.read().strip())
        with Timer() as tp:
            plan = pipe.plan(selective_execution_config=config)
        t_plan = tp.s
        actions = plan.actions()
        planned = sum(1 for a in actions.values() if a == "run")
        assert planned == len(selected), (planned, len(selected))
    emit(
        t_run=tb.s + tv.s + t_plan,
        t_build=tb.s,
        t_validate=tv.s,
        t_plan=t_plan,
        steps=len(dag),
        selected=planned,
        definition_mb=len(definition) / 2**20,
        t_import=T_IMPORT,
    )
