"""W6 sagepipe: JOBS processing jobs (ProcessingStep + ScriptProcessor, SDK-shaped), each
running harness/processing_job.py under the /opt/ml contract with an S3 input and output
mapped into the store, one at a time (MaxParallelExecutionSteps 1), to compare with the
same script run as plain children (../baseline/w6_processing.py): the difference per job is
what the job sandbox and its records cost.
Skips (exit 77, message on stderr) while sagepipe.processing / ProcessingStep are missing or
the engine has no local runner for Processing steps yet."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import JOBS, PROCESSING_SCRIPT, RUNS, Timer, emit

T0 = time.perf_counter()
try:
    from sagepipe.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
    from sagepipe.workflow.steps import ProcessingStep
except ImportError as e:
    print(
        f"W6 skipped: sagepipe has no processing jobs yet ({e}); "
        "merge the `jobs` branch, then run bench/run.sh --groups W6",
        file=sys.stderr,
    )
    sys.exit(77)
from sagepipe.exceptions import SagePipeError
from sagepipe.workflow.parallelism_config import ParallelismConfiguration
from sagepipe.workflow.pipeline import Pipeline

T_IMPORT = time.perf_counter() - T0
from _sp import case_store, session, succeeded

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def build(sess):
    steps = []
    for i in range(JOBS):
        input_dir = str(sess.store.uri_to_path(f"s3://bench-w6/input/job{i}"))
        os.makedirs(input_dir, exist_ok=True)
        with open(os.path.join(input_dir, "data.txt"), "w") as f:
            f.write(str(i))
        processor = ScriptProcessor(
            role="arn:aws:iam::000000000000:role/bench",
            image_uri=IMAGE,
            command=["python3"],
            instance_count=1,
            instance_type="ml.m5.large",
            sagemaker_session=sess,
        )
        args = processor.run(
            code=PROCESSING_SCRIPT,
            inputs=[ProcessingInput(source=f"s3://bench-w6/input/job{i}", destination="/opt/ml/processing/input")],
            outputs=[
                ProcessingOutput(
                    output_name="result", source="/opt/ml/processing/output", destination=f"s3://bench-w6/output/job{i}"
                )
            ],
        )
        steps.append(ProcessingStep(name=f"job{i}", step_args=args))
    return Pipeline(name="jobs", steps=steps, sagemaker_session=sess)


if __name__ == "__main__":
    sess = session(case_store(RUNS, "w6"))
    pipe = build(sess)
    pipe.upsert()
    try:
        with Timer() as t:
            execution = pipe.start(parallelism_config=ParallelismConfiguration(1))
            execution.wait()
    except SagePipeError as e:
        if "needs a local job runner" not in str(e):
            raise
        print(
            f"W6 skipped: sagepipe has the processing API but no local runner for Processing steps yet "
            f"({str(e).splitlines()[-1].strip()}); merge the `jobs` branch, then run bench/run.sh --groups W6",
            file=sys.stderr,
        )
        sys.exit(77)
    succeeded(execution)
    for i in range(JOBS):
        out = str(sess.store.uri_to_path(f"s3://bench-w6/output/job{i}"))
        with open(os.path.join(out, "result.txt")) as f:
            assert int(f.read()) == i + 1, f"job{i}: wrong result"
    emit(t_run=t.s, jobs=JOBS, ms_per_job=t.s / JOBS * 1000, t_import=T_IMPORT)
