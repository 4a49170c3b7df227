"""W5 SageMaker Python SDK 2.x (real, in .venv-sm): build the 5,000-step layered DAG
(common.layered_dag) as LambdaSteps wired by depends_on, then Pipeline.definition() (the
SDK compiles the steps, checks names and builds the JSON; it has no local plan of a selective
run, the service does that). The same definition as sagepipe's `w5_big.py lambda`."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
from common import Timer, emit, layered_dag

T0 = time.perf_counter()
from sagemaker.lambda_helper import Lambda
from sagemaker.workflow.lambda_step import LambdaStep
from sagemaker.workflow.pipeline import Pipeline

T_IMPORT = time.perf_counter() - T0
LAMBDA_ARN = "arn:aws:lambda:us-east-1:000000000000:function:noop"

if __name__ == "__main__":
    dag = layered_dag()
    with Timer() as tb:
        fn = Lambda(function_arn=LAMBDA_ARN)
        steps = [LambdaStep(name=name, lambda_func=fn, depends_on=list(parents) or None) for name, parents in dag]
        pipe = Pipeline(name="big5000-lambda", steps=steps)
    with Timer() as tv:
        definition = pipe.definition()
    assert f'"{dag[-1][0]}"' in definition
    emit(
        t_run=tb.s + tv.s,
        t_build=tb.s,
        t_validate=tv.s,
        t_plan=0.0,
        steps=len(dag),
        definition_mb=len(definition) / 2**20,
        t_import=T_IMPORT,
    )
