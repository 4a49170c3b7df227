"""Crash safety: run a pipeline in a child process, SIGKILL it at a random moment, and check the
store afterwards.

After every kill: every JSON record in the store parses (nothing torn or half written); the
execution loads and reads Failed with a reason saying its process died (or Succeeded, if the
kill came after its last step ended); every step recorded Succeeded has its artifacts intact (size and
SHA-256 against its record); and ``SelectiveExecutionConfig.from_failed_execution`` completes
the pipeline, reusing what had succeeded.

``SAGEPIPE_CRASH_KILLS`` sets the number of kills (20 by default; ``scripts/trust.sh long``
runs 120), ``SAGEPIPE_CRASH_SEED`` the random seed, ``SAGEPIPE_CRASH_REPORT`` a file to write
the tally of kill points to.
"""

import collections
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import crash_lib
import pytest
import store_lib
from sagepipe._s3_objects import open_object
from sagepipe.workflow.pipeline import Pipeline, _PipelineExecution
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

TESTS = Path(__file__).resolve().parent
KILLS = int(os.environ.get("SAGEPIPE_CRASH_KILLS", "20"))
SEED = int(os.environ.get("SAGEPIPE_CRASH_SEED", str(random.randrange(1 << 30))))
BUCKET = "sagemaker-local-000000000000"
INTERRUPTED = "exited before the execution finished"
TERMINAL = {"Succeeded", "Failed", "Stopped"}


def spawn_child(store: Path, mode: str, name: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [sys.executable, "-c", "import crash_lib; crash_lib.child()", str(store), mode, name],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )


def wait_ready(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline()
    assert line.strip() == "READY", f"child did not get ready: {line!r} (exit {proc.poll()})"


def execution_dirs(store: Path, name: str) -> set:
    """The per-execution directories: one is made (it holds the execution's lock) before any of its
    records is written, in both store formats, so a new one shows an execution started even when
    the kill came before its record. A plain listing, cheap enough for the 1 ms polls below."""
    base = store / "pipelines" / name / "executions"
    return {p.name for p in base.iterdir()} if base.is_dir() else set()


def execution_prefix(name: str, eid: str) -> str:
    return f"pipelines/{name}/executions/{eid}/"


def kill_point(store: Path, name: str, eid: str) -> str:
    """Where the kill landed, read from the raw records before anything settles them."""
    records = store_lib.read_records(store, execution_prefix(name, eid))
    record = records.get(execution_prefix(name, eid) + "execution.json")
    if record is None:
        return "start: before the execution record"
    if json.loads(record)["PipelineExecutionStatus"] in TERMINAL:
        return "after the end"
    steps = [json.loads(data) for path, data in records.items() if "/steps/" in path]
    running = [s for s in steps if s["StepStatus"] == "Executing"]
    if not steps:
        return "start: record written, no step started"
    if not running:
        return "between steps (records written, next not started)"
    phases = []
    for s in running:
        results = store / "s3" / BUCKET / name / eid / s["StepName"] / "results"
        if s["StepType"] == "Condition":
            phases.append("condition step running")
        elif (results / "payload.pkl").is_file():
            phases.append("output written, step record not yet")
        elif results.is_dir() and any(results.iterdir()):
            phases.append("output being written")
        else:
            phases.append("step running (function)")
    return min(
        phases,
        key=[
            "output written, step record not yet",
            "output being written",
            "condition step running",
            "step running (function)",
        ].index,
    )


def has_execution_record(store: Path, name: str, eid: str) -> bool:
    return store_lib.read_record(store, execution_prefix(name, eid) + "execution.json") is not None


def assert_store_records_intact(store: Path) -> None:
    """Every record in the store is whole JSON, and so is every other JSON file on disk (the
    results of function steps); temporary files of interrupted writes are the only other
    leftovers, and readers skip them."""
    assert store_lib.integrity_ok(store), "the record store failed its integrity check"
    torn = store_lib.torn_records(store)
    assert not torn, f"torn records: {torn}"
    for path in store.rglob("*.json"):
        if path.name.startswith(".") or path.relative_to(store).parts[0] in store_lib.RECORD_ROOTS:
            continue
        try:
            json.loads(path.read_bytes())
        except ValueError as e:  # pragma: no cover - this is the failure we look for
            pytest.fail(f"torn file {path}: {e}")


def assert_artifacts_intact(session, arn: str) -> int:
    """Every artifact of a Succeeded step matches its record; returns how many were checked."""
    checked = 0
    for rec in json.loads(session.store.load_steps(arn)):
        if rec["StepStatus"] != "Succeeded":
            continue
        for art in rec.get("Artifacts", []):
            data = open_object(session.store, art["Uri"]).read()  # kept inline or a file
            assert len(data) == art["Size"], f"{rec['StepName']}: {art['Uri']} has another size"
            assert hashlib.sha256(data).hexdigest() == art["Sha256"], f"{rec['StepName']}: {art['Uri']} changed"
            checked += 1
    return checked


def expected_sha(execution_id: str) -> str:
    return hashlib.sha256(random.Random(execution_id).randbytes(1 << 20)).hexdigest()


def check_after_kill(session, name: str, eid: str) -> str:
    """The checks after one kill; returns how the recorded execution ended up."""
    arn = f"arn:aws:sagemaker:local:000000000000:pipeline/{name}/execution/{eid}"
    pipeline, listed, token = Pipeline(name=name, sagemaker_session=session), set(), None
    while True:  # the service's page size is at most 100
        page = pipeline.list_executions(max_results=100, next_token=token)
        listed.update(e["PipelineExecutionArn"] for e in page["PipelineExecutionSummaries"])
        token = page.get("NextToken")
        if not token:
            break
    assert arn in listed
    execution = _PipelineExecution(arn, sagemaker_session=session)
    desc = execution.describe()
    status = desc["PipelineExecutionStatus"]
    steps = execution.list_steps()
    assert_artifacts_intact(session, arn)
    if status == "Succeeded":
        assert {s["StepStatus"] for s in steps} == {"Succeeded"}
        return status
    assert status == "Failed", desc
    assert INTERRUPTED in desc["FailureReason"], desc["FailureReason"]
    for s in steps:
        assert s["StepStatus"] in {"Succeeded", "Failed"}, s
        if s["StepStatus"] == "Failed":
            assert INTERRUPTED in s["FailureReason"], s

    config = SelectiveExecutionConfig.from_failed_execution(arn, sagemaker_session=session)
    resumed = Pipeline(name=name, sagemaker_session=session).start(selective_execution_config=config)
    resumed.wait(delay=1, max_attempts=300)
    rdesc = resumed.describe()
    assert rdesc["PipelineExecutionStatus"] == "Succeeded", (rdesc, resumed.list_steps())
    rsteps = {s["StepName"]: s for s in resumed.list_steps()}
    assert set(rsteps) == set(crash_lib.STEPS), sorted(rsteps)
    reused = {n for n, s in rsteps.items() if "SelectiveExecutionResult" in s}
    succeeded_before = {s["StepName"] for s in steps if s["StepStatus"] == "Succeeded"}
    assert reused == succeeded_before
    # The reused blob is the killed run's, intact; everything downstream agrees with it.
    gen = resumed.result("Gen")
    assert gen["sha"] == expected_sha(gen["execution_id"])
    assert gen["execution_id"] == (eid if "Gen" in reused else resumed.arn.rsplit("/", 1)[1])
    assert resumed.result("Publish") == f"published {gen['sha']}"
    assert_artifacts_intact(session, resumed.arn)
    return status


def run_to_end(store: Path, mode: str, name: str) -> float:
    """Run the child without killing it; returns seconds from READY to DONE."""
    proc = spawn_child(store, mode, name)
    wait_ready(proc)
    t = time.monotonic()
    out, _ = proc.communicate(timeout=300)
    assert out.strip().endswith("DONE"), out
    return time.monotonic() - t


@pytest.mark.timeout(600 + 30 * KILLS)  # two full runs, then KILLS killed runs and their resumes
def test_sigkill_at_random_moments(tmp_path):
    rng = random.Random(SEED)
    modes = ["worker", "in_process"]
    store = tmp_path / "store"
    session = PipelineSession(store=store, function_step_mode="in_process")
    duration = {m: run_to_end(store, m, crash_lib.PIPELINE) for m in modes}
    tally = collections.Counter()
    endings = collections.Counter()
    for k in range(KILLS):
        mode = modes[k % 2]
        before = execution_dirs(store, crash_lib.PIPELINE)
        proc = spawn_child(store, mode, crash_lib.PIPELINE)
        wait_ready(proc)
        # A quarter of the kills in the first 50 ms (the execution and first step records being
        # written), the rest up to 15% past the measured run (so some land after the end).
        early = rng.random() < 0.25
        time.sleep(rng.uniform(0, 0.05) if early else rng.uniform(0, duration[mode] * 1.15))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        new = sorted(execution_dirs(store, crash_lib.PIPELINE) - before)
        assert len(new) <= 1, new
        point = kill_point(store, crash_lib.PIPELINE, new[0]) if new else "start: before the execution dir"
        tally[f"{mode}: {point}"] += 1
        assert_store_records_intact(store)
        if new and has_execution_record(store, crash_lib.PIPELINE, new[0]):
            endings[check_after_kill(session, crash_lib.PIPELINE, new[0])] += 1
        assert_store_records_intact(store)
    report = {
        "seed": SEED,
        "kills": KILLS,
        "kill_points": dict(sorted(tally.items())),
        "recorded_endings": dict(endings),
        "calibration_seconds": duration,
    }
    print(json.dumps(report, indent=2))
    if os.environ.get("SAGEPIPE_CRASH_REPORT"):
        Path(os.environ["SAGEPIPE_CRASH_REPORT"]).write_text(json.dumps(report, indent=2))
    assert sum(tally.values()) == KILLS
    # Most kills land while the execution runs (the others before its record or after its end).
    assert endings["Failed"] >= KILLS // 3, report


def test_killed_owner_while_step_writes_output_is_resumable(tmp_path):
    """A kill that lands exactly while a function step writes its output: the step reads
    Failed (not Succeeded with a torn output) and the resume re-runs it."""
    store = tmp_path / "store"
    session = PipelineSession(store=store, function_step_mode="in_process")
    name = crash_lib.PIPELINE
    tally = []
    for _ in range(30):  # the step is short; try until a kill lands inside it
        before = execution_dirs(store, name)
        proc = spawn_child(store, "in_process", name)
        wait_ready(proc)
        deadline = time.monotonic() + 60
        eid = None
        while time.monotonic() < deadline:
            new = sorted(execution_dirs(store, name) - before)
            if new:
                eid = new[0]
                results = store / "s3" / BUCKET / name / eid / "Gen" / "results"
                if results.is_dir():
                    break
            time.sleep(0.001)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        assert eid is not None
        tally.append(kill_point(store, name, eid))
        assert_store_records_intact(store)
        if has_execution_record(store, name, eid):
            arn = f"arn:aws:sagemaker:local:000000000000:pipeline/{name}/execution/{eid}"
            ending = check_after_kill(session, name, eid)
            gen = {s["StepName"]: s["StepStatus"] for s in _PipelineExecution(arn, session).list_steps()}.get("Gen")
            # The kill landed inside Gen (not in a later step): check_after_kill resumed it.
            if ending == "Failed" and gen == "Failed":
                return
    pytest.fail(f"no kill landed inside Gen in 30 tries (kill points: {tally})")


# --- the window between the last step record and the final execution record ---
#
# A kill there leaves every step recorded as ended and the execution record still Executing. The
# tests below leave the store in that state by rewriting the record of a finished run: the
# on-disk state is the same, and the window is too short to hit on purpose.


def reopen_as_if_owner_died(session, execution) -> None:
    """Put the execution record back to what it said before the owner's final write."""
    path = execution_prefix(execution.arn.split("/")[-3], execution.arn.rsplit("/", 1)[1]) + "execution.json"
    rec = store_lib.read_json(session.store_root, path)
    rec.update(PipelineExecutionStatus="Executing", EndTime=None, FailureReason=None)
    store_lib.write_json(session.store_root, path, rec)


def owner_died_pipeline(session):
    from sagepipe.workflow.condition_step import ConditionStep
    from sagepipe.workflow.conditions import ConditionGreaterThan
    from sagepipe.workflow.function_step import step

    @step(name="Make")
    def make():
        return 3

    @step(name="Big")
    def big(x):
        return f"big {x}"

    @step(name="Small")
    def small(x):
        return f"small {x}"

    @step(name="After")
    def after(x):
        return f"after {x}"

    made = make()
    cond = ConditionStep(
        name="IsBig",
        conditions=[ConditionGreaterThan(left=made, right=1)],
        if_steps=[big(made)],
        else_steps=[small(made)],
    )
    return Pipeline(name="owner-died", steps=[cond, after(made)], sagemaker_session=session)


@pytest.mark.parametrize("mode", ["full", "selective"])
def test_owner_dead_after_its_last_step_ended_reads_succeeded(tmp_path, mode):
    """Regression (CI at 00b1c2b): such an execution read Failed with every step Succeeded, and
    "resume from failure" then refused it (nothing to resume). Steps on the branch not taken and,
    in a selective run, the steps it did not select, are not work left."""
    session = PipelineSession(store=tmp_path / "store", function_step_mode="in_process")
    pipeline = owner_died_pipeline(session)
    pipeline.upsert()
    execution = pipeline.start()
    execution.wait()
    if mode == "selective":
        config = SelectiveExecutionConfig(source_pipeline_execution_arn=execution.arn, selected_steps=["Make"])
        execution = pipeline.start(selective_execution_config=config)
        execution.wait()
    reopen_as_if_owner_died(session, execution)
    desc = _PipelineExecution(execution.arn, sagemaker_session=session).describe()
    assert desc["PipelineExecutionStatus"] == "Succeeded", desc
    assert "FailureReason" not in desc
    assert desc["LastModifiedTime"] >= desc["CreationTime"]


def test_owner_dead_before_its_last_step_ended_still_reads_failed(tmp_path):
    """The counterpart: one step without a final record is work left, so the execution is Failed
    and resuming it re-runs that step only."""
    session = PipelineSession(store=tmp_path / "store", function_step_mode="in_process")
    pipeline = owner_died_pipeline(session)
    pipeline.upsert()
    execution = pipeline.start()
    execution.wait()
    eid = execution.arn.rsplit("/", 1)[1]
    store_lib.delete_record(session.store_root, execution_prefix("owner-died", eid) + "steps/After.json")
    reopen_as_if_owner_died(session, execution)
    desc = _PipelineExecution(execution.arn, sagemaker_session=session).describe()
    assert desc["PipelineExecutionStatus"] == "Failed"
    assert INTERRUPTED in desc["FailureReason"]
    config = SelectiveExecutionConfig.from_failed_execution(execution.arn, sagemaker_session=session)
    assert config.selected_steps == ["After"]
    resumed = pipeline.start(selective_execution_config=config)
    resumed.wait()
    assert resumed.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert resumed.result("After") == "after 3"
