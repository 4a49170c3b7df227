"""Parallel jobs start even when the pipeline's own process has OpenBLAS loaded (numpy/scipy).

Jobs are started with fork (they need a `pre_exec`), so every `pthread_atfork` handler in the
process runs; OpenBLAS's joins its worker threads. glibc runs concurrent forks' handlers
concurrently, and two OpenBLAS handlers at once hang for ever. Before job spawns were serialized
this script hung in every one of 5 runs (the first parallel execution after numpy/scipy loaded).
"""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("numpy")
pytest.importorskip("scipy")

SCRIPT = textwrap.dedent(
    """
    import os, sys
    from sagepipe.processing import ProcessingOutput, ScriptProcessor
    from sagepipe.workflow.pipeline import Pipeline
    from sagepipe.workflow.pipeline_context import PipelineSession
    from sagepipe.workflow.steps import ProcessingStep

    here = os.path.dirname(os.path.abspath(__file__))
    session = PipelineSession(store=os.path.join(here, "store"))
    steps = []
    for i in range(6):
        processor = ScriptProcessor(image_uri="python", command=["python3"], role="r",
                                    instance_type="ml.m5.large", instance_count=1, sagemaker_session=session)
        args = processor.run(outputs=[ProcessingOutput(output_name="out", source="/opt/ml/processing/out")],
                             code=os.path.join(here, "job.py"))
        steps.append(ProcessingStep(name=f"Job{i}", step_args=args))
    pipeline = Pipeline(name="parallel", steps=steps, sagemaker_session=session)
    pipeline.upsert(role_arn="r")

    def run():
        execution = pipeline.start()
        execution.wait()
        assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", execution.list_steps()

    # A first run installs sagepipe's fork handlers before OpenBLAS registers its own, so that
    # OpenBLAS's run first (handlers run in reverse order of registration): the order that hung.
    run()
    import numpy as np
    import scipy.linalg  # noqa: F401  (its own OpenBLAS copy)
    matrix = np.random.rand(400, 400)
    matrix @ matrix  # starts OpenBLAS's threads
    for _ in range(3):
        run()
    print("all succeeded")
    """
)


def test_parallel_jobs_start_with_openblas_loaded(tmp_path):
    (tmp_path / "job.py").write_text("import time\ntime.sleep(0.2)\n")
    (tmp_path / "flow.py").write_text(SCRIPT)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")  # a worker thread even on one core
    for attempt in range(2):
        try:
            done = subprocess.run(
                [sys.executable, str(tmp_path / "flow.py")],
                capture_output=True,
                text=True,
                timeout=90,
                env=env,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"the pipeline hung starting parallel jobs (attempt {attempt + 1})")
        assert done.returncode == 0, done.stderr[-3000:]
        assert "all succeeded" in done.stdout
