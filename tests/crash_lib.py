"""The pipeline the crash and concurrency tests run, and the child process that runs it.

``Gen -> (Left, Right) -> Join -> Check(if: Publish, else: Boom)``: ``Gen`` writes a blob of
``Size`` bytes, the parallel ``Left``/``Right`` check its hash and write outputs of their own,
``Join`` checks they agree, and ``Check`` always takes the ``if`` branch, so a resumed run can
complete. Every step sleeps a little, so a kill at a random moment lands in every phase: step
start, the function running, its output being written, its record being written.

Run as a child: ``python -c "import crash_lib; crash_lib.child()" <store> <mode> <name>``. It
prints ``READY`` just before ``start()``, then the execution ARN, then ``DONE``.
"""

import hashlib
import random
import sys
import time

from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagepipe.workflow.execution_variables import ExecutionVariables
from sagepipe.workflow.fail_step import FailStep
from sagepipe.workflow.function_step import step
from sagepipe.workflow.parameters import ParameterInteger
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession

STEPS = ["Gen", "Left", "Right", "Join", "Check", "Publish"]
PIPELINE = "crash"


def _jitter() -> None:
    time.sleep(random.uniform(0.0, 0.08))


def generate(size: int, execution_id: str) -> dict:
    _jitter()
    blob = random.Random(execution_id).randbytes(size)
    return {"blob": blob, "sha": hashlib.sha256(blob).hexdigest(), "execution_id": execution_id}


def side(gen: dict, part: str, execution_id: str) -> dict:
    """Check the blob ``Gen`` wrote (a torn or foreign output fails here) and write a new one."""
    if hashlib.sha256(gen["blob"]).hexdigest() != gen["sha"]:
        raise ValueError(f"{part}: Gen's blob does not match its hash")
    _jitter()
    return {"sha": gen["sha"], "part": part, "pad": gen["blob"][::-1], "execution_id": execution_id}


def join(left: dict, right: dict, execution_id: str) -> dict:
    if left["sha"] != right["sha"] or (left["part"], right["part"]) != ("left", "right"):
        raise ValueError(f"Left and Right disagree: {left['sha']} {right['sha']}")
    if left["pad"] != right["pad"]:
        raise ValueError("Left and Right wrote different pads")
    _jitter()
    return {"score": 1.0, "sha": left["sha"], "execution_id": execution_id}


def build(session, name: str = PIPELINE) -> Pipeline:
    size = ParameterInteger("Size", default_value=1 << 20)
    exec_id = ExecutionVariables.PIPELINE_EXECUTION_ID

    @step(name="Gen")
    def gen_step(n, eid):
        return generate(n, eid)

    @step(name="Left")
    def left_step(g, eid):
        return side(g, "left", eid)

    @step(name="Right")
    def right_step(g, eid):
        return side(g, "right", eid)

    @step(name="Join")
    def join_step(a, b, eid):
        return join(a, b, eid)

    @step(name="Publish")
    def publish_step(j):
        _jitter()
        return f"published {j['sha']}"

    g = gen_step(size, exec_id)
    j = join_step(left_step(g, exec_id), right_step(g, exec_id), exec_id)
    check = ConditionStep(
        name="Check",
        conditions=[ConditionGreaterThanOrEqualTo(left=j["score"], right=0)],
        if_steps=[publish_step(j)],
        else_steps=[FailStep(name="Boom", error_message="score below zero")],
    )
    return Pipeline(name=name, parameters=[size], steps=[check], sagemaker_session=session)


def child() -> None:
    store, mode, name = sys.argv[1:4]
    session = PipelineSession(store=store, function_step_mode=mode)
    pipeline = build(session, name)
    pipeline.upsert(role_arn="crash-test")
    print("READY", flush=True)
    execution = pipeline.start()
    print(execution.arn, flush=True)
    execution.wait(delay=1, max_attempts=600)
    print("DONE", flush=True)


def concurrent_child() -> None:
    """Start ``n`` executions at once, as soon as ``go_file`` exists; print their ARNs.

    Usage: ``python -c "import crash_lib; crash_lib.concurrent_child()" <store> <n> <go_file> <mode>``.
    """
    import os

    store, n, go_file, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    session = PipelineSession(store=store, function_step_mode=mode)
    pipeline = build(session, PIPELINE)
    pipeline.upsert(role_arn="concurrency-test")
    print("READY", flush=True)
    while not os.path.exists(go_file):
        time.sleep(0.005)
    executions = [pipeline.start(parameters={"Size": 4096}) for _ in range(n)]
    for e in executions:
        print(e.arn, flush=True)
    for e in executions:
        e.wait(delay=1, max_attempts=600)
    print("DONE", flush=True)
