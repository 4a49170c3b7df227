"""What a job costs besides its own process: the job's log is not read back after a successful
job and only its end after a failed one, jobs share one `python` wrapper per interpreter, and a
job's own directory is moved aside when it ends and deleted in the background."""

import json
import sys
import textwrap
import time
from pathlib import Path

from jobs_lib import definition, processing_input, processing_output, processing_step, put_in_store
from sagepipe.workflow.pipeline import Pipeline

BUCKET = "overhead-bucket"


def _run(session, name, steps):
    pipeline = Pipeline.from_definition(json.dumps(definition(steps)), name=name, sagemaker_session=session)
    pipeline.upsert(role_arn="any")
    execution = pipeline.start()
    execution.wait()
    return execution, {s["StepName"]: s for s in execution.list_steps()}


def _script(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_failed_job_with_a_huge_log_reports_its_last_lines(session, tmp_path):
    """Regression: the whole log (up to 64 MiB) was read back after every job; now a failure
    reads only the end, which must still hold the last lines."""
    script = _script(
        tmp_path,
        "noisy.py",
        """
        import sys
        for i in range(200_000):
            print(f"progress {i}")
        print("the real cause", file=sys.stderr)
        sys.exit(4)
        """,
    )
    execution, steps = _run(session, "Noisy", [processing_step("Noisy", ["python3", str(script)], [], [])])
    reason = steps["Noisy"]["FailureReason"]
    assert steps["Noisy"]["StepStatus"] == "Failed"
    assert "AlgorithmError: the job exited with code 4" in reason
    assert "the real cause" in reason and "progress 199999" in reason
    assert "progress 0\n" not in reason and len(reason) < 4096
    assert "progress 0\n" in execution.logs("Noisy")


def test_jobs_share_the_python_wrapper_and_leave_no_job_directory(session, tmp_path):
    """Jobs calling `python` from their PATH run the session's interpreter through one shared
    wrapper; each job's own directory (its /opt/ml) is removed when it ends."""
    store = Path(session.store.root)
    code = put_in_store(
        store,
        f"s3://{BUCKET}/code/which.py",
        _script(
            tmp_path,
            "which.py",
            """
            import os, shutil, subprocess, sys
            out = "/opt/ml/processing/output"
            os.makedirs(out, exist_ok=True)
            wrapper = shutil.which("python")
            version = subprocess.run([wrapper, "-c", "import sys; print(sys.version)"],
                                     capture_output=True, text=True, check=True).stdout
            with open(os.path.join(out, "which.txt"), "w") as f:
                f.write(wrapper + "\\n" + version)
            """,
        ),
    )
    steps = [
        processing_step(
            f"Which{i}",
            ["python3", "/opt/ml/processing/input/code/which.py"],
            [processing_input("code", code, "/opt/ml/processing/input/code")],
            [processing_output("out", f"s3://{BUCKET}/which/{i}", "/opt/ml/processing/output")],
        )
        for i in range(2)
    ]
    _execution, recs = _run(session, "Which", steps)
    assert all(r["StepStatus"] == "Succeeded" for r in recs.values()), recs
    seen = [(store / "s3" / BUCKET / "which" / str(i) / "which.txt").read_text().split("\n", 1) for i in range(2)]
    assert seen[0][0] == seen[1][0], "both jobs use the same wrapper"
    assert seen[0][1].strip() == sys.version
    assert sorted(p.name for p in (store / "jobs").iterdir()) == [".shared", ".trash"]
    _wait_until_empty(store / "jobs" / ".trash")


def _wait_until_empty(directory: Path) -> None:
    deadline = time.monotonic() + 10
    while any(directory.iterdir()):
        assert time.monotonic() < deadline, f"left in {directory}: {list(directory.iterdir())}"
        time.sleep(0.02)


def test_job_directories_left_by_a_dead_process_are_swept(session, tmp_path):
    """Finished jobs' directories are deleted in the background; what a process that died left
    in the trash is deleted when the next process runs a job in the store."""
    store = Path(session.store.root)
    leftover = store / "jobs" / ".trash" / "pipelines-dead-step-x"
    (leftover / "ml" / "model").mkdir(parents=True)
    (leftover / "ml" / "model" / "weights.bin").write_bytes(b"0" * 1024)
    script = _script(tmp_path, "ok.py", "print('ok')\n")
    _execution, steps = _run(session, "Sweep", [processing_step("Ok", ["python3", str(script)], [], [])])
    assert steps["Ok"]["StepStatus"] == "Succeeded", steps
    _wait_until_empty(store / "jobs" / ".trash")
