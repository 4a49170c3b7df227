"""What reusing an output costs in a selective run, for a 1 KiB and a 1 GiB output.

A processing job writes one file of the given size; a downstream @step function receives its
S3 URI (not the data). The selective re-run selects only the downstream step, so the output is
reused by reference: the run checks it (size and mtime; the content hash only if those changed)
and points at it. Prints the median re-run wall time per size, their ratio, and the store growth.

    python bench/reuse_cost.py [runs]
"""

import os
import statistics
import sys
import tempfile
import time

from sagepipe.processing import ProcessingOutput, ScriptProcessor
from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig
from sagepipe.workflow.steps import ProcessingStep

WRITE = """\
import os, sys
os.makedirs("/opt/ml/processing/out", exist_ok=True)
with open("/opt/ml/processing/out/blob.bin", "wb") as f:
    f.truncate(int(sys.argv[1]))
"""


def uri_length(uri: str) -> int:
    return len(uri)


def store_bytes(root: str) -> int:
    total = 0
    for base, _, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(base, name)).st_size
            except OSError:
                pass
    return total


def measure(size: int, runs: int):
    work = tempfile.mkdtemp(prefix="sagepipe-reuse-")
    os.chdir(work)
    with open("write.py", "w") as f:
        f.write(WRITE)
    session = PipelineSession(store=os.path.join(work, "store"), function_step_mode="in_process")
    processor = ScriptProcessor(
        role="arn:aws:iam::000000000000:role/r",
        image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        command=["python3"],
        instance_count=1,
        instance_type="ml.m5.large",
        sagemaker_session=session,
    )
    produce = ProcessingStep(
        name="Produce",
        step_args=processor.run(
            code="write.py",
            outputs=[ProcessingOutput(output_name="out", source="/opt/ml/processing/out")],
            arguments=[str(size)],
        ),
    )
    use = step(name="Use")(uri_length)(produce.properties.ProcessingOutputConfig.Outputs["out"].S3Output.S3Uri)
    pipeline = Pipeline(name="reuse-cost", steps=[produce, use], sagemaker_session=session)
    reference = pipeline.start()
    reference.wait()
    assert reference.describe()["PipelineExecutionStatus"] == "Succeeded", reference.list_steps()
    before = store_bytes(session.store_root)
    times = []
    for _ in range(runs):
        cfg = SelectiveExecutionConfig(["Use"], source_pipeline_execution_arn=reference.arn)
        t = time.perf_counter()
        rerun = pipeline.start(selective_execution_config=cfg)
        rerun.wait()
        times.append(time.perf_counter() - t)
        assert rerun.describe()["PipelineExecutionStatus"] == "Succeeded"
    growth = (store_bytes(session.store_root) - before) / runs
    return statistics.median(times), growth


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    small, small_growth = measure(1024, runs)
    big, big_growth = measure(1 << 30, runs)
    for label, wall, growth in (("1 KiB", small, small_growth), ("1 GiB", big, big_growth)):
        print(
            f"selective re-run reusing a {label} output: {wall * 1000:7.1f} ms median of {runs}, "
            f"store growth {growth / 1024:.1f} KiB/run"
        )
    print(f"ratio 1 GiB / 1 KiB: {big / small:.2f}")


if __name__ == "__main__":
    main()
