"""A store written by an earlier release is brought to this one's format (3) once, automatically and
atomically, and nothing recorded is lost: format 1 (one JSON file per record) is migrated to the
record database; format 2 (the database without inline step outputs) is upgraded in place.

The store is ``tests/fixtures/store-v1/store`` (its README says what it holds and how it was made);
``expected.json`` is what that release's public client read from it. Each test works on a copy.
"""

import json
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest
import sagepipe
import store_lib
from sagepipe import _core
from sagepipe.exceptions import StoreWarning

# The fixture's torn record is reported by every listing that meets it, as it should be.
pytestmark = pytest.mark.filterwarnings("ignore::sagepipe.exceptions.StoreWarning")

FIXTURE = Path(__file__).parent / "fixtures" / "store-v1"
TESTS = Path(__file__).parent
EXPECTED = json.loads((FIXTURE / "expected.json").read_text())
DAMAGED = "pipelines/fixture-steps/executions/zzdamaged001/execution.json"
KILLED_OWNER = "pipelines/fixture-steps/executions/8rxqb5xbenmg"


def child_env() -> dict:
    import os

    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))


@pytest.fixture
def v1(tmp_path) -> Path:
    """A copy of the format-1 store, and the records it holds (logical path -> bytes)."""
    root = tmp_path / "store"
    shutil.copytree(FIXTURE / "store", root, symlinks=True)
    return root


def snapshot(root: Path) -> dict:
    """What the public client reads from the store (the fixture's own reader, in a child)."""
    done = subprocess.run(
        [sys.executable, str(FIXTURE / "expected_gen.py"), str(root)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_fixture_is_format_1():
    assert not (FIXTURE / "store" / "store.db").exists()
    assert (FIXTURE / "store" / DAMAGED).is_file()


def test_every_record_is_there_and_reads_the_same_after_the_migration(v1):
    records = store_lib.read_records(v1)
    assert DAMAGED in records and len(records) > 40
    # The first read migrates: the public client reads what the previous release read.
    assert snapshot(v1) == EXPECTED
    assert (v1 / "store.db").is_file() and not (v1 / "store.db.migrating").exists()
    migrated = store_lib.read_records(v1)
    # Nothing lost, byte for byte (the dead owner's run is settled on read: those rows changed).
    settled = {p for p in records if p.startswith(KILLED_OWNER + "/") and not p.endswith("definition.json")}
    assert set(migrated) == set(records)
    assert {p: b for p, b in migrated.items() if p not in settled} == {
        p: b for p, b in records.items() if p not in settled
    }
    # The imported files are kept aside, where they were relative to the store.
    for path, data in records.items():
        assert not (v1 / path).exists(), path
        assert (v1 / "legacy-v1" / path).read_bytes() == data, path
    # Logs, artifacts and locks stay files.
    assert any((v1 / "pipelines" / "abalone-demo" / "executions").glob("*/logs/*.log"))
    assert (v1 / "s3").is_dir()

    store = _core.Store(v1)
    # The torn record is still reported unreadable, not dropped.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        listed = json.loads(store.list_executions("fixture-steps"))
    assert len(listed) == len(EXPECTED["pipelines"]["fixture-steps"]["executions"])
    assert any(issubclass(w.category, StoreWarning) and "zzdamaged001" in str(w.message) for w in caught)
    unreadable = json.loads(store.unreadable_records())
    assert [r["Path"] for r in unreadable] == [str(v1 / DAMAGED)]
    # Definition versions (the killed owner's run upserted a third), their times (the files'), the trigger.
    versions = json.loads(store.pipeline_versions("fixture-steps"))
    assert [v for v, _ in versions] == [1, 2, 3]
    assert versions[0][1] <= versions[1][1] <= versions[2][1] <= time.time()
    assert "nightly" in json.loads(store.pipeline_triggers("fixture-steps"))
    # The registry: the demo's model and package.
    assert any(r["Source"].startswith("model package AbaloneModels/1") for r in json.loads(store.registry_records()))
    assert any(r["Source"].startswith("model ") for r in json.loads(store.registry_records()))
    # The cache index: an entry per key and per step.
    cache = store_lib.read_records(v1, "cache/fixture-cached/")
    assert any(p.startswith("cache/fixture-cached/keys/") for p in cache)
    assert json.loads(cache["cache/fixture-cached/steps/Prep.json"])["StepName"] == "Prep"
    # Paging reads the migrated executions in creation order.
    executions = EXPECTED["pipelines"]["fixture-steps"]["executions"]
    first = json.loads(store.execution_page("fixture-steps", 2, newest_first=False))
    assert [r["PipelineExecutionArn"] for r in first["Records"]] == [e["arn"] for e in executions[:2]]
    rest = json.loads(store.execution_page("fixture-steps", 100, newest_first=False, after=tuple(first["Next"])))
    assert [r["PipelineExecutionArn"] for r in rest["Records"]] == [e["arn"] for e in executions[2:]]
    latest = json.loads(store.latest_execution("fixture-steps"))
    assert latest["PipelineExecutionArn"] == executions[-1]["arn"]


def test_runs_from_migrated_executions_reuse_and_resume(v1):
    client = sagepipe.client(store=str(v1))
    executions = EXPECTED["pipelines"]["fixture-steps"]["executions"]
    full = next(e["arn"] for e in executions if e["status"] == "Succeeded" and not e["selective_source"])
    failed = next(e["arn"] for e in executions if ["FailAt", "1"] in e["parameters"])
    store = _core.Store(v1)
    assert store.resume_selection(failed) == ["Total", "Report"]

    def run(reference, steps, **extra):
        arn = client.start_pipeline_execution(
            PipelineName="fixture-steps",
            SelectiveExecutionConfig={
                "SourcePipelineExecutionArn": reference,
                "SelectedSteps": [{"StepName": s} for s in steps],
            },
            **extra,
        )["PipelineExecutionArn"]
        deadline = time.time() + 120
        while time.time() < deadline:
            status = client.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
            if status not in ("Executing", "Stopping"):
                break
            time.sleep(0.2)
        steps = client.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
        return status, {s["StepName"]: (s["StepStatus"], s.get("SelectiveExecutionResult")) for s in steps}

    status, steps = run(full, ["Report"])
    assert status == "Succeeded", steps
    assert steps["Make"][1] == {"SourcePipelineExecutionArn": full}
    status, steps = run(failed, ["Total", "Report"], PipelineParameters=[{"Name": "FailAt", "Value": "0"}])
    assert status == "Succeeded", steps
    assert steps["Make"][1] == {"SourcePipelineExecutionArn": failed}


MIGRATE_AND_EXIT = """
import sys
from sagepipe import _core
_core.Store(sys.argv[1]).list_pipelines()
"""


def test_a_kill_during_the_migration_leaves_the_old_store_or_the_new_one(v1):
    records = store_lib.read_records(v1)
    digest = store_lib.record_digest(v1)
    rng = random.Random()
    states = []
    # The child imports sagepipe (~0.1 s), then migrates (~20 ms): kills land before, inside, after.
    for _ in range(10):
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(MIGRATE_AND_EXIT), str(v1)],
            env=child_env(),
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.06, 0.2))
        child.send_signal(signal.SIGKILL)
        child.wait()
        migrated = (v1 / "store.db").exists()
        states.append(migrated)
        # Either the intact format-1 store or the complete format-2 one: the same records.
        assert store_lib.record_digest(v1) == digest, f"after {len(states)} kill(s), migrated={migrated}"
        if migrated:
            break
    # Whatever the kills left, the next open completes it, and the store reads as before.
    assert snapshot(v1) == EXPECTED
    for path in records:
        assert not (v1 / path).exists() and (v1 / "legacy-v1" / path).is_file(), path


HOLD_LOCK = """
import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(120)
"""


def test_a_live_format1_execution_refuses_the_migration_until_it_ends(v1):
    lock = v1 / KILLED_OWNER / "lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLD_LOCK), str(lock)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(sagepipe.exceptions.SagePipeError, match="sagepipe store migrate --store"):
            _core.Store(v1).list_pipelines()
        assert not (v1 / "store.db").exists(), "nothing changed"
        cli = [sys.executable, "-m", "sagepipe.cli", "store", "migrate", "--store", str(v1)]
        refused = subprocess.run(cli, capture_output=True, text=True, env=child_env(), timeout=120)
        assert refused.returncode != 0 and "8rxqb5xbenmg" in refused.stderr, refused.stderr
    finally:
        holder.kill()
        holder.wait()
    done = subprocess.run(cli, capture_output=True, text=True, env=child_env(), timeout=120)
    assert done.returncode == 0, done.stderr
    assert "from format 1 to format 3" in done.stdout, done.stdout
    again = subprocess.run([*cli, "--json"], capture_output=True, text=True, env=child_env(), timeout=120)
    assert json.loads(again.stdout)["FromFormat"] == 3
    assert snapshot(v1) == EXPECTED


def test_a_store_of_a_newer_format_is_refused(tmp_path):
    root = tmp_path / "store"
    _core.Store(root).create_model_package(json.dumps({"ModelPackageGroupName": "G"}))
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sqlite3; sqlite3.connect({str(root / 'store.db')!r}).execute('PRAGMA user_version = 4')",
        ],
        check=True,
    )
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(MIGRATE_AND_EXIT), str(root)],
        capture_output=True,
        text=True,
        env=child_env(),
    )
    assert "written by a newer sagepipe (format 4); upgrade sagepipe" in child.stderr, child.stderr


AS_FORMAT_2 = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("DROP TABLE objects; UPDATE meta SET value = '2' WHERE key = 'format'; PRAGMA user_version = 2;")
db.close()
"""

USER_VERSION = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA user_version').fetchone()[0])"


def test_a_format_2_store_is_upgraded_in_place(v1):
    """Format 2 is format 3 without the table of inline step outputs (its results are files):
    the migrated fixture with that table dropped is what a format-2 release left. Opening it
    adds the table; every record reads the same, and runs reuse its results."""
    assert snapshot(v1) == EXPECTED  # migrated to format 3
    db = str(v1 / "store.db")
    records = store_lib.read_records(v1)
    subprocess.run([sys.executable, "-c", AS_FORMAT_2, db], check=True)
    version = subprocess.run([sys.executable, "-c", USER_VERSION, db], check=True, capture_output=True, text=True)
    assert version.stdout.strip() == "2"
    assert snapshot(v1) == EXPECTED
    version = subprocess.run([sys.executable, "-c", USER_VERSION, db], check=True, capture_output=True, text=True)
    assert version.stdout.strip() == "3"
    assert store_lib.read_records(v1) == records
    test_runs_from_migrated_executions_reuse_and_resume(v1)
