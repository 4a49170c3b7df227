"""Trust, round 2 (process side): what an owner that dies, a full disk or a forked child must not
do to the store. Real processes, real SIGKILL, a real tmpfs.

- A killed owner's jobs and function-step workers die with it (their children too), and the
  job directories it left are swept by the next process that uses the store.
- A child forked by an in-process step does not keep the execution's lock: the run reads
  Failed (interrupted) as soon as the owner is gone, not when the child exits.
- A full disk: every record write that fails surfaces (the step and the execution end Failed
  saying "No space left on device"), and no temporary file is left.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import store_lib
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession

TESTS = Path(__file__).resolve().parent
INTERRUPTED = "exited before the execution finished"


def child_env() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))


def spawn_owner(code: str, *args: str) -> subprocess.Popen:
    """Run ``code`` in a child that prints the ARN of the execution it starts."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=child_env(),
        start_new_session=True,
    )


def wait_for(what: str, condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a reaper counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def read_pid(path: Path) -> int:
    wait_for(f"{path.name}", lambda: path.exists() and path.read_text().strip().isdigit())
    return int(path.read_text())


def kill_owner(owner: subprocess.Popen) -> None:
    owner.kill()
    owner.wait(timeout=30)


def status_of(store: Path, arn: str) -> dict:
    return json.loads(PipelineSession(store=store).store.load_execution(arn))


# ---- the owner dies, its jobs and workers die ----------------------------------------------

OWNER_WITH_JOB = """
    import json, sys
    from jobs_lib import definition, processing_step
    from sagepipe.workflow.pipeline import Pipeline
    from sagepipe.workflow.pipeline_context import PipelineSession

    store, marks = sys.argv[1:3]
    script = f"echo $$ > {marks}/job.tmp && mv {marks}/job.tmp {marks}/job.pid; " \\
             f"sleep 300 & echo $! > {marks}/grandchild.tmp && mv {marks}/grandchild.tmp {marks}/grandchild.pid; wait"
    step = processing_step("LongJob", ["/bin/sh", "-c", script], [], [])
    session = PipelineSession(store=store)
    pipeline = Pipeline.from_definition(json.dumps(definition([step])), name="owner-dies", sagemaker_session=session)
    pipeline.upsert(role_arn="any")
    execution = pipeline.start()
    print(execution.arn, flush=True)
    execution.wait(delay=1, max_attempts=600)
"""


def job_dirs(store: Path) -> list:
    jobs = store / "jobs"
    return sorted(p.name for p in jobs.iterdir() if not p.name.startswith(".")) if jobs.is_dir() else []


def test_a_killed_owners_job_dies_with_its_children_and_its_directory_is_swept(tmp_path):
    store, marks = tmp_path / "store", tmp_path / "marks"
    marks.mkdir()
    owner = spawn_owner(OWNER_WITH_JOB, str(store), str(marks))
    try:
        arn = owner.stdout.readline().strip()
        job, grandchild = read_pid(marks / "job.pid"), read_pid(marks / "grandchild.pid")
        assert alive(job) and alive(grandchild)
        left = job_dirs(store)
        assert len(left) == 1, left
    finally:
        kill_owner(owner)
    try:
        wait_for("the job and its child to die with their owner", lambda: not alive(job) and not alive(grandchild), 30)
    finally:
        for pid in (job, grandchild):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    assert status_of(store, arn)["PipelineExecutionStatus"] == "Failed"
    assert job_dirs(store) == left, "the dead owner's job directory stays until another process sweeps it"

    # The next process that runs a pipeline on this store sweeps what the dead owner left.
    from jobs_lib import definition, processing_step

    quick = processing_step("Quick", ["/bin/sh", "-c", "true"], [], [])
    session = PipelineSession(store=store)
    pipeline = Pipeline.from_definition(json.dumps(definition([quick])), name="next", sagemaker_session=session)
    pipeline.upsert(role_arn="any")
    execution = pipeline.start()
    execution.wait(delay=0.2, max_attempts=600)
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert job_dirs(store) == [], "the killed owner's job directory was swept"


OWNER_WITH_WORKER = """
    import os, sys
    from sagepipe.workflow.function_step import step
    from sagepipe.workflow.pipeline import Pipeline
    from sagepipe.workflow.pipeline_context import PipelineSession

    store, marks = sys.argv[1:3]

    @step(name="Busy")
    def busy(marks):
        with open(os.path.join(marks, "worker.tmp"), "w") as f:
            f.write(str(os.getpid()))
        os.rename(os.path.join(marks, "worker.tmp"), os.path.join(marks, "worker.pid"))
        # One long C call that holds the GIL: the worker's own Python cannot notice anything.
        return sum(range(10**13))

    session = PipelineSession(store=store)
    pipeline = Pipeline(name="worker-owner", steps=[busy(marks)], sagemaker_session=session)
    pipeline.upsert(role_arn="any")
    execution = pipeline.start()
    print(execution.arn, flush=True)
    execution.wait(delay=1, max_attempts=600)
"""


def test_a_killed_owners_busy_function_step_worker_dies_with_it(tmp_path):
    """Even a worker stuck in a C call that holds the GIL (its own parent check cannot run)."""
    store, marks = tmp_path / "store", tmp_path / "marks"
    marks.mkdir()
    owner = spawn_owner(OWNER_WITH_WORKER, str(store), str(marks))
    try:
        owner.stdout.readline()
        worker = read_pid(marks / "worker.pid")
        assert worker != owner.pid and alive(worker)
    finally:
        kill_owner(owner)
    try:
        wait_for("the busy worker to die with its owner", lambda: not alive(worker), 30)
    finally:
        if alive(worker):
            os.kill(worker, signal.SIGKILL)


# ---- a forked child does not keep the execution's lock ---------------------------------------

OWNER_FORKING = """
    import os, subprocess, sys, time
    from sagepipe.workflow.function_step import step
    from sagepipe.workflow.pipeline import Pipeline
    from sagepipe.workflow.pipeline_context import PipelineSession

    store, how, marks = sys.argv[1:4]

    @step(name="Spawner")
    def spawner(how, marks):
        if how == "fork":
            pid = os.fork()
            if pid == 0:  # the child: lives on after its parent, then leaves without cleanup
                time.sleep(300)
                os._exit(0)
        else:
            pid = subprocess.Popen(["sleep", "300"]).pid
        with open(os.path.join(marks, "child.tmp"), "w") as f:
            f.write(str(pid))
        os.rename(os.path.join(marks, "child.tmp"), os.path.join(marks, "child.pid"))
        time.sleep(300)  # the owner is killed while the step runs
        return 1

    session = PipelineSession(store=store, function_step_mode="in_process")
    pipeline = Pipeline(name="forker", steps=[spawner(how, marks)], sagemaker_session=session)
    pipeline.upsert(role_arn="any")
    execution = pipeline.start()
    print(execution.arn, flush=True)
    execution.wait(delay=1, max_attempts=600)
"""


@pytest.mark.parametrize("how", ["fork", "popen"])
def test_a_child_of_an_in_process_step_does_not_keep_the_execution_lock(tmp_path, how):
    store, marks = tmp_path / "store", tmp_path / "marks"
    marks.mkdir()
    owner = spawn_owner(OWNER_FORKING, str(store), how, str(marks))
    try:
        arn = owner.stdout.readline().strip()
        child = read_pid(marks / "child.pid")
        assert status_of(store, arn)["PipelineExecutionStatus"] == "Executing"
    finally:
        kill_owner(owner)
    try:
        assert alive(child)
        # The owner is gone: the run reads Failed at once, although its child still lives.
        wait_for(
            "the run to read Failed",
            lambda: status_of(store, arn)["PipelineExecutionStatus"] == "Failed",
            timeout=15,
        )
        record = status_of(store, arn)
        assert INTERRUPTED in record["FailureReason"]
        assert alive(child), "the child is not ours to kill: it only must not hold the lock"
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)


# ---- a full disk: a small tmpfs as the store, in a private mount namespace -------------------

DISK_FULL = """
    import errno, json, os, sys
    from pathlib import Path
    import store_lib
    from jobs_lib import definition, processing_step
    from sagepipe.workflow.function_step import step
    from sagepipe.workflow.pipeline import Pipeline
    from sagepipe.workflow.pipeline_context import PipelineSession

    disk, scenario = Path(sys.argv[1]), sys.argv[2]
    session = PipelineSession(store=disk / "store", function_step_mode="in_process")
    store = session.store

    def fill(path):
        \"\"\"Write until the disk is full, to the last byte.\"\"\"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"x" * size)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
        os.close(fd)

    @step(name="Fill")
    def fill_step(path):
        fill(path)
        return "a result there is no room for"

    @step(name="Small")
    def small_step():
        return 1

    def report(arn):
        execution = json.loads(store.load_execution(arn))
        steps = json.loads(store.load_steps(arn))
        return {
            "status": execution["PipelineExecutionStatus"],
            "reason": execution.get("FailureReason"),
            "steps": {s["StepName"]: [s["StepStatus"], s.get("FailureReason")] for s in steps},
        }

    def leftovers():
        return sorted(
            str(p.relative_to(disk))
            for p in disk.rglob("*")
            if ".tmp" in p.name or p.name.endswith(".partial") or p.name == "reserve"
        )

    out = {}
    if scenario == "function-result":
        pipeline = Pipeline(name="full", steps=[fill_step(str(disk / "ballast"))], sagemaker_session=session)
        pipeline.upsert(role_arn="any")
        execution = pipeline.start()
        execution.wait(delay=0.2, max_attempts=600)
        out["run"] = report(execution.arn)
    elif scenario == "job-output":
        script = "head -c 100000000 /dev/zero > /opt/ml/processing/output/big; true"
        output = {"OutputName": "out", "AppManaged": False,
                  "S3Output": {"S3Uri": "s3://bucket/big", "LocalPath": "/opt/ml/processing/output",
                               "S3UploadMode": "EndOfJob"}}
        job = processing_step("BigOutput", ["/bin/sh", "-c", script], [], [output])
        pipeline = Pipeline.from_definition(json.dumps(definition([job])), name="full", sagemaker_session=session)
        pipeline.upsert(role_arn="any")
        execution = pipeline.start()
        execution.wait(delay=0.2, max_attempts=600)
        out["run"] = report(execution.arn)
        (disk / "store" / "s3" / "bucket" / "big" / "big").unlink()
    elif scenario == "start":
        pipeline = Pipeline(name="full", steps=[small_step()], sagemaker_session=session)
        pipeline.upsert(role_arn="any")
        fill(disk / "ballast")
        import sagepipe

        try:  # the service call: Pipeline.start() would first fail to update the pipeline record
            sagepipe.client(sagemaker_session=session).start_pipeline_execution(PipelineName="full")
            out["start"] = "started"
        except Exception as e:
            out["start"] = f"{type(e).__name__}: {e}"
        out["executions"] = len(json.loads(store.list_executions("full")))
        out["execution_records"] = store_lib.execution_ids(disk / "store", "full")
        executions = disk / "store" / "pipelines" / "full" / "executions"
        out["execution_dirs"] = sorted(p.name for p in executions.iterdir()) if executions.exists() else []
    out["leftovers"] = leftovers()
    # With room again, the store works as before.
    if (disk / "ballast").exists():
        (disk / "ballast").unlink()
    again = Pipeline(name="after", steps=[small_step()], sagemaker_session=session)
    again.upsert(role_arn="any")
    execution = again.start()
    execution.wait(delay=0.2, max_attempts=600)
    out["after"] = report(execution.arn)["status"]
    print(json.dumps(out), flush=True)
"""

NO_SPACE = "No space left on device"


def run_on_a_small_disk(tmp_path: Path, scenario: str, size: str = "8m") -> dict:
    """Run the ``DISK_FULL`` scenario in a user + mount namespace whose store is a tmpfs."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare(1) is not installed")
    disk = tmp_path / "disk"
    disk.mkdir()
    code = tmp_path / "disk_full.py"
    code.write_text(textwrap.dedent(DISK_FULL))
    command = f'mount -t tmpfs -o size={size} tmpfs "$1" && exec "$2" "$3" "$1" "$4"'
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"no unprivileged user + mount namespaces here: {probe.stderr.decode().strip()}")
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", command, "sh", str(disk), sys.executable, str(code), scenario],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=300,
    )
    assert done.returncode == 0, f"the scenario failed:\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_full_disk_fails_the_step_and_the_execution_saying_so(tmp_path):
    """A step's result does not fit: the step and the run end Failed (not Executing), saying why."""
    out = run_on_a_small_disk(tmp_path, "function-result")
    run = out["run"]
    assert run["status"] == "Failed", run
    status, reason = run["steps"]["Fill"]
    assert status == "Failed" and NO_SPACE in reason, run
    assert NO_SPACE in run["reason"], run
    assert out["leftovers"] == [], "no temporary file (nor the space set aside) is left"
    assert out["after"] == "Succeeded"


def test_a_record_that_cannot_be_written_fails_the_step_instead_of_vanishing(tmp_path):
    """A job fills the disk with its output and succeeds: its Succeeded record does not fit."""
    out = run_on_a_small_disk(tmp_path, "job-output")
    run = out["run"]
    assert run["status"] == "Failed", run
    status, reason = run["steps"]["BigOutput"]
    assert status == "Failed" and "record could not be written" in reason and NO_SPACE in reason, run
    assert NO_SPACE in run["reason"], run
    assert out["leftovers"] == []
    assert out["after"] == "Succeeded"


def test_a_start_on_a_full_disk_fails_and_leaves_nothing(tmp_path):
    out = run_on_a_small_disk(tmp_path, "start")
    assert NO_SPACE in out["start"], out
    assert out["executions"] == 0 and out["execution_records"] == [], "no half-written execution is left"
    assert out["execution_dirs"] == [], "nor its directory (its lock)"
    assert out["leftovers"] == []
    assert out["after"] == "Succeeded"


# ---- low items: step logs, record times, the default store ----------------------------------


def run_job(session, name: str, command: list):
    from jobs_lib import definition, processing_step

    step = processing_step("Talk", command, [], [])
    pipeline = Pipeline.from_definition(json.dumps(definition([step])), name=name, sagemaker_session=session)
    pipeline.upsert(role_arn="any")
    execution = pipeline.start()
    execution.wait(delay=0.2, max_attempts=600)
    return execution


def test_a_step_log_is_capped_keeping_its_head_and_tail(session):
    talk = (
        "import sys\n"
        "w = sys.stdout.write\n"
        "w('FIRST\\n')\n"
        "for _ in range(420000):\n"
        "    w('x' * 99 + '\\n')\n"
        "w('LAST\\n')\n"
    )
    execution = run_job(session, "talker", ["python3", "-c", talk])
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"
    path = Path(session.store.log_path(execution.arn, "Talk"))
    size = path.stat().st_size
    assert size <= 32 << 20, f"the step printed 42 MB and its log kept {size} bytes"
    with open(path, "rb") as f:
        assert f.read(6) == b"FIRST\n"
        f.seek(-5, os.SEEK_END)
        assert f.read() == b"LAST\n"
    text = execution.logs("Talk")
    assert text.count("[sagepipe] log capped: ") == 1, "the log says that, and where, its middle was dropped"


def test_sagepipe_logs_streams_a_big_log(tmp_path, session):
    """A big log (written before logs were capped) is printed in pieces, not read whole."""
    execution = run_job(session, "quiet", ["/bin/sh", "-c", "echo hello"])
    path = Path(session.store.log_path(execution.arn, "Talk"))
    line = b"y" * 1023 + b"\n"
    with open(path, "wb") as f:
        for _ in range(150 * 1024):  # 150 MiB
            f.write(line)
    size = path.stat().st_size
    out = tmp_path / "printed.log"
    # The CLI's own peak memory (VmHWM: this process image's, unlike rusage, which counts the
    # parent it was forked from), printed as it exits.
    peak_report = (
        "import atexit, sys\n"
        "peak = lambda: [line for line in open('/proc/self/status') if line.startswith('VmHWM')][0]\n"
        "atexit.register(lambda: sys.stderr.write(peak()))\n"
        "from sagepipe.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    with open(out, "wb") as sink:
        cli = subprocess.run(
            [sys.executable, "-c", peak_report, "logs", "--store", str(session.store_root), execution.arn, "Talk"],
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            timeout=300,
        )
    assert cli.returncode == 0, cli.stderr
    assert out.stat().st_size == size
    peak_mib = int(cli.stderr.split("VmHWM:")[1].split()[0]) / 1024
    assert peak_mib < 100, f"printing a 150 MiB log took {peak_mib:.0f} MiB of memory"


def test_a_time_out_of_range_is_a_damaged_record_not_a_crash(in_process_session, tmp_path):
    from sagepipe.exceptions import StoreError
    from sagepipe.workflow.function_step import step

    @step(name="One")
    def one():
        return 1

    pipeline = Pipeline(name="times", steps=[one()], sagemaker_session=in_process_session)
    pipeline.upsert(role_arn="any")
    execution = pipeline.start()
    execution.wait(delay=0.2, max_attempts=600)
    record = f"pipelines/times/executions/{execution.arn[-12:]}/execution.json"
    damaged = store_lib.read_json(in_process_session.store_root, record)
    damaged["CreationTime"] = 1e300
    store_lib.write_json(in_process_session.store_root, record, damaged)
    with pytest.raises(StoreError, match="out of range") as caught:
        execution.describe()
    assert "execution.json" in str(caught.value), "the error names the damaged record"

    cli = subprocess.run(
        [sys.executable, "-m", "sagepipe.cli", "steps", "--store", str(in_process_session.store_root), execution.arn],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=120,
    )
    assert cli.returncode != 0 and "out of range" in cli.stderr and "Traceback" not in cli.stderr, cli.stderr


def test_the_default_store_is_resolved_once(tmp_path, monkeypatch):
    """``os.chdir`` after a pipeline first used the default store does not move its store."""
    from sagepipe.workflow.function_step import step

    monkeypatch.delenv("SAGEPIPE_STORE", raising=False)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)

    @step(name="One")
    def one():
        return 1

    pipeline = Pipeline(name="here", steps=[one()], sagemaker_session=PipelineSession(function_step_mode="in_process"))
    pipeline.upsert(role_arn="any")
    monkeypatch.chdir(second)
    execution = pipeline.start()
    execution.wait(delay=0.2, max_attempts=600)
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert (first / ".sagepipe").is_dir() and not (second / ".sagepipe").exists()
