"""A pipeline with slow steps for the Ctrl-C tests (importable as ``sigint_lib:pipeline``).

``Slow`` (an ``@step`` function) and ``Job`` (a processing job) run in parallel and take minutes
unless stopped; ``After`` follows ``Slow``. ``SIGINT_WORKDIR`` names a directory where each slow
step leaves ``<Step>.started`` once running; ``SIGINT_MODE`` is ``worker`` (default),
``in_process`` or ``in_process_blocked`` (``Slow`` runs in this process, in the last mode blocked
in one long C call that no exception can interrupt).

Run as a script (``python sigint_lib.py``) it starts the pipeline, prints ``STARTED <arn>``
and waits; with ``--no-wait`` it returns right after starting (interpreter exit then waits).
"""

import os
import sys
import time

from sagepipe.processing import ScriptProcessor
from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.steps import ProcessingStep

HERE = os.path.dirname(os.path.abspath(__file__))
JOB_CODE = os.path.join(HERE, "fixtures", "scripts", "slow_job.py")


def _mark(name: str) -> None:
    with open(os.path.join(os.environ["SIGINT_WORKDIR"], f"{name}.started"), "w") as f:
        f.write(str(os.getpid()))


@step(name="Slow")
def slow(mode):
    _mark("Slow")
    if mode == "in_process_blocked":
        time.sleep(300)  # one C call: only the process exit ends it
    for _ in range(3000):
        time.sleep(0.1)
    return 1


@step(name="After")
def after(value):
    _mark("After")
    return value + 1


def session() -> PipelineSession:
    mode = os.environ.get("SIGINT_MODE", "worker")
    return PipelineSession(function_step_mode="in_process" if mode.startswith("in_process") else None)


def pipeline(sess=None) -> Pipeline:
    sess = sess or session()
    mode = os.environ.get("SIGINT_MODE", "worker")
    processor = ScriptProcessor(
        image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/slow:latest",
        command=["python3"],
        role="arn:aws:iam::123456789012:role/SageMakerRole",
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=sess,
    )
    job = ProcessingStep(
        name="Job",
        step_args=processor.run(code=JOB_CODE, arguments=[os.environ["SIGINT_WORKDIR"]]),
    )
    return Pipeline(name="sigint", steps=[after(slow(mode)), job], sagemaker_session=sess)


if __name__ == "__main__":
    execution = pipeline().start()
    print("STARTED", execution.arn, flush=True)
    if "--no-wait" not in sys.argv:
        execution.wait()
        print("STATUS", execution.describe()["PipelineExecutionStatus"], flush=True)
