"""Several processes starting executions of one pipeline in one store at the same moment.

Two and four processes each start 25 executions at once (and two processes 5 each with
function steps in worker processes) (the crash tests' pipeline: parallel
branches, a condition, function-step outputs). While they run, listings are read again and
again from this process; afterwards every execution is recorded exactly once, listings and
their pages agree, every execution Succeeded, and every step's outputs are its own execution's
(the values carry the execution id, the artifact URIs sit under it, the hashes match).
"""

import hashlib
import json
import os
import random
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

TESTS = Path(__file__).resolve().parent
PER_PROCESS = int(os.environ.get("SAGEPIPE_CONCURRENCY_PER_PROCESS", "25"))
SIZE = 4096  # the Size parameter the children start with


def spawn(store: Path, go: Path, mode: str, per_process: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import crash_lib; crash_lib.concurrent_child()",
            str(store),
            str(per_process),
            str(go),
            mode,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def all_pages(pipeline: Pipeline, page: int) -> list:
    arns, token = [], None
    while True:
        resp = pipeline.list_executions(max_results=page, next_token=token)
        arns += [s["PipelineExecutionArn"] for s in resp["PipelineExecutionSummaries"]]
        token = resp.get("NextToken")
        if not token:
            return arns


GC_LOOP = """
import sys, time
from sagepipe import _core, _gc
store = _core.Store(sys.argv[1])
runs = 0
while True:
    plan = _gc.plan(store, keep=100000)
    assert not plan.delete and not plan.artifacts, plan.as_dict()
    _gc.apply(store, plan)
    runs += 1
    print(runs, flush=True)
    time.sleep(0.05)
"""


def gc_alongside(store: Path):
    """`gc` planning and applying in a loop alongside the starts (keeping everything): it must
    neither fail on executions being written nor remove anything of a recorded one."""
    return subprocess.Popen(
        [sys.executable, "-c", GC_LOOP, str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize(
    "processes, mode, per_process",
    [(2, "in_process", PER_PROCESS), (4, "in_process", PER_PROCESS), (2, "worker", max(1, PER_PROCESS // 5))],
    ids=["2-processes", "4-processes", "2-processes-workers"],
)
@pytest.mark.timeout(900)  # each child has up to 600 s
def test_processes_start_executions_at_once(tmp_path, processes, mode, per_process):
    store = tmp_path / "store"
    go = tmp_path / "go"
    session = PipelineSession(store=store, function_step_mode="in_process")
    children = [spawn(store, go, mode, per_process) for _ in range(processes)]
    for c in children:
        line = c.stdout.readline()
        assert line.strip() == "READY", (line, c.stderr.read() if c.poll() is not None else "")
    gc = gc_alongside(store)
    go.touch()

    # Listings read while the executions start and run: always whole, never a duplicate.
    pipeline = Pipeline(name=crash_lib.PIPELINE, sagemaker_session=session)
    seen_counts = []
    deadline = time.monotonic() + 600
    while any(c.poll() is None for c in children):
        assert time.monotonic() < deadline, "the executions did not finish in 10 minutes"
        listed = [s["PipelineExecutionArn"] for s in pipeline.list_executions()["PipelineExecutionSummaries"]]
        assert len(listed) == len(set(listed))
        assert not seen_counts or len(listed) >= seen_counts[-1], "an execution disappeared from the listing"
        seen_counts.append(len(listed))
        time.sleep(0.05)
    started = []
    for c in children:
        out, err = c.communicate(timeout=600)
        lines = out.split()
        assert c.returncode == 0 and lines[-1] == "DONE", (c.returncode, out, err)
        started += lines[:-1]
    assert gc.poll() is None, gc.stderr.read()  # gc ran the whole time without failing
    gc.terminate()
    gc_out, _ = gc.communicate()
    assert gc_out.split(), "gc never completed a pass"

    total = processes * per_process
    assert len(started) == total and len(set(started)) == total
    listed = [s["PipelineExecutionArn"] for s in pipeline.list_executions()["PipelineExecutionSummaries"]]
    assert sorted(listed) == sorted(started), "every execution recorded exactly once"
    for page in (1, 7, 100):
        assert all_pages(pipeline, page) == listed
    # One execution record per execution, and nothing else in the executions folder on disk (the
    # per-execution directories that hold their locks).
    ids = sorted(a.rsplit("/", 1)[1] for a in started)
    assert store_lib.execution_ids(store, crash_lib.PIPELINE) == ids
    dirs = sorted((store / "pipelines" / crash_lib.PIPELINE / "executions").iterdir())
    assert sorted(d.name for d in dirs) == ids

    for arn in started:
        eid = arn.rsplit("/", 1)[1]
        ex = _PipelineExecution(arn, sagemaker_session=session)
        assert ex.describe()["PipelineExecutionStatus"] == "Succeeded", ex.list_steps()
        steps = ex.list_steps()
        assert sorted(s["StepName"] for s in steps) == sorted(crash_lib.STEPS)
        gen = ex.result("Gen")
        assert gen["execution_id"] == eid
        assert gen["sha"] == hashlib.sha256(random.Random(eid).randbytes(SIZE)).hexdigest()
        assert ex.result("Join")["execution_id"] == eid
        assert ex.result("Publish") == f"published {gen['sha']}"
        for rec in json.loads(session.store.load_steps(arn)):
            for art in rec.get("Artifacts", []):
                assert f"/{eid}/{rec['StepName']}/" in art["Uri"], (eid, art["Uri"])
                data = open_object(session.store, art["Uri"]).read()  # kept inline or a file
                assert hashlib.sha256(data).hexdigest() == art["Sha256"]
    assert store_lib.integrity_ok(store) and store_lib.torn_records(store) == []
    for path in store.rglob("*.json"):  # the other JSON files: function results
        if not path.name.startswith(".") and path.relative_to(store).parts[0] not in store_lib.RECORD_ROOTS:
            json.loads(path.read_bytes())
    print(
        json.dumps(
            {
                "processes": processes,
                "mode": mode,
                "executions_recorded": len(listed),
                "listings_read_while_running": len(seen_counts),
            }
        )
    )


OPEN_TOGETHER = """
import json, sys, time
from sagepipe._core import Store
go = float(sys.argv[2])
while time.time() < go:
    pass
Store(sys.argv[1]).create_model_package(json.dumps({"ModelPackageGroupName": "Together"}))
"""


def test_processes_creating_a_store_together_all_succeed(tmp_path):
    """Regression: processes that open a new store at the same moment (two notebooks, a test
    run's workers) failed with 'database is locked' while one of them created the database; its
    setup answers the others' with a busy error SQLite does not retry."""
    for trial in range(5):
        root = tmp_path / f"store{trial}"
        go = time.time() + 0.5
        command = [sys.executable, "-c", OPEN_TOGETHER, str(root), str(go)]
        children = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(6)]
        errors = [c.communicate(timeout=60)[1] for c in children]
        assert all(c.returncode == 0 for c in children), errors
        packages = json.loads(PipelineSession(store=root).store.list_model_packages("Together"))
        assert len(packages) == 6
