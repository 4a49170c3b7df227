"""Function-step workers are started lazily (a chain of steps starts one interpreter, not one per
step or per core) and kept warm across executions of the same process; a warm worker never
serves an execution with yesterday's user code, environment or sys.path."""

import importlib
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession


def _workers_in(cwd: Path):
    """Live worker processes of this process started in ``cwd``."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
            where = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[1]) == os.getpid() and b"sagepipe._worker" in cmdline and where == str(cwd):
            found.append(int(pid))
    return found


def _run(session, name, steps, **start):
    pipeline = Pipeline(name=name, steps=steps, sagemaker_session=session)
    execution = pipeline.start(**start)
    execution.wait()
    status = execution.describe()["PipelineExecutionStatus"]
    assert status == "Succeeded", [(s["StepName"], s.get("FailureReason")) for s in execution.list_steps()]
    return execution


@pytest.fixture
def own_workers(tmp_path, monkeypatch):
    """A session whose workers are this test's own (a spec no other test shares: its cwd)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return PipelineSession(store=tmp_path / "store"), cwd


def _pid_chain(n):
    prev = None
    for i in range(n):

        @step(name=f"s{i}")
        def s(_prev):
            return os.getpid()

        prev = s(prev)
    return prev


def test_a_chain_starts_one_worker_and_the_next_execution_reuses_it(own_workers):
    session, cwd = own_workers
    first = _run(session, "chain", [_pid_chain(3)])
    pids = {first.result(f"s{i}") for i in range(3)}
    assert len(pids) == 1, pids
    deadline = time.monotonic() + 5
    while len(_workers_in(cwd)) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _workers_in(cwd) == list(pids), "only the worker the steps used was started"

    second = _run(session, "chain", [_pid_chain(3)])
    assert {second.result(f"s{i}") for i in range(3)} == pids, "the warm worker served the next execution"


def test_changed_user_module_is_not_served_by_a_warm_worker(own_workers, tmp_path, monkeypatch):
    """Regression guard for reuse across executions: a worker that imported the user's module
    must not run the next execution with the old version after the file changed."""
    session, _cwd = own_workers
    lib = tmp_path / "lib"
    lib.mkdir()
    module = lib / "reuse_user_code.py"
    module.write_text("VERSION = 1\n\ndef version(_):\n    return VERSION\n")
    monkeypatch.syspath_prepend(str(lib))
    monkeypatch.delitem(sys.modules, "reuse_user_code", raising=False)
    import reuse_user_code

    def build():
        @step(name="where")
        def where():
            return os.getpid()

        return step(name="version")(reuse_user_code.version)(where())

    time.sleep(1.1)  # a file changed just before a worker starts counts as changed after it
    first = _run(session, "user-code", [build()])
    assert first.result("version") == 1
    unchanged = _run(session, "user-code", [build()])
    assert unchanged.result("where") == first.result("where"), "an unchanged module keeps the worker"

    module.write_text("VERSION = 2\n\ndef version(_):\n    return VERSION\n")
    importlib.reload(reuse_user_code)  # what a notebook's autoreload does
    second = _run(session, "user-code", [build()])
    assert second.result("version") == 2
    assert second.result("where") != first.result("where")


def test_environment_and_sys_path_of_the_parent_reach_a_warm_pool(own_workers, monkeypatch, tmp_path):
    session, _cwd = own_workers

    def build():
        @step(name="env")
        def env():
            return [os.environ.get("REUSE_PROBE"), [p for p in sys.path if p.endswith("added-by-a-step")]]

        @step(name="adds")
        def adds(prev):
            sys.path.append("/nowhere/added-by-a-step")
            return prev

        @step(name="after")
        def after(prev):
            return [p for p in sys.path if p.endswith("added-by-a-step")]

        return after(adds(env()))

    monkeypatch.setenv("REUSE_PROBE", "one")
    first = _run(session, "env", [build()])
    assert first.result("env") == ["one", []]
    assert first.result("after") == [], "a step's sys.path change does not reach the next step"
    monkeypatch.setenv("REUSE_PROBE", "two")
    second = _run(session, "env", [build()])
    assert second.result("env") == ["two", []]


def test_worker_with_an_unremovable_change_is_not_reused(own_workers, tmp_path):
    """A step that removes the worker's working directory leaves a worker that cannot undo it:
    the next execution gets a new worker."""
    session, _cwd = own_workers
    doomed = tmp_path / "doomed"
    doomed.mkdir()

    @step(name="pid")
    def pid():
        return os.getpid()

    first = _run(session, "taint", [pid()])

    @step(name="pid")
    def pid_then_break(where):
        os.chdir(where)
        os.rmdir(where)
        return os.getpid()

    tainted = _run(session, "taint", [pid_then_break(str(doomed))])
    assert tainted.result("pid") == first.result("pid")
    third = _run(session, "taint", [pid()])
    assert third.result("pid") != first.result("pid")


def test_user_module_file_written_by_a_test_helper_is_picked_up(own_workers, tmp_path, monkeypatch):
    """A module first imported by a worker (not by this process) is checked too."""
    session, _cwd = own_workers
    lib = tmp_path / "lib2"
    lib.mkdir()
    (lib / "reuse_helper.py").write_text("def answer():\n    return 'old'\n")
    monkeypatch.syspath_prepend(str(lib))

    time.sleep(1.1)  # a file changed just before a worker starts counts as changed after it

    def build():
        @step(name="ask")
        def ask():
            import os

            import reuse_helper

            return reuse_helper.answer(), os.getpid()

        return ask()

    old, first_pid = _run(session, "helper", [build()]).result("ask")
    assert old == "old"
    # Unchanged, the worker that imported it is reused: so a new pid below means "changed".
    assert _run(session, "helper", [build()]).result("ask") == ("old", first_pid)
    (lib / "reuse_helper.py").write_text(
        textwrap.dedent("""
        def answer():
            return 'new'
    """)
    )
    answer, pid = _run(session, "helper", [build()]).result("ask")
    assert answer == "new" and pid != first_pid


def test_a_prewarmed_worker_is_the_one_the_steps_use(own_workers):
    """``start()`` starts the first worker (``Store.prewarm_workers``) before it builds the
    definition; the steps then run on that worker and no other is started for a chain."""
    session, cwd = own_workers
    python_path = [p or str(cwd) for p in sys.path if isinstance(p, str)]
    session.store.prewarm_workers(sys.executable, python_path, str(cwd))
    deadline = time.monotonic() + 10
    while not _workers_in(cwd):
        assert time.monotonic() < deadline, "the prewarmed worker never started"
        time.sleep(0.01)
    prewarmed = _workers_in(cwd)
    execution = _run(session, "prewarmed", [_pid_chain(2)])
    assert [execution.result("s0")] == [execution.result("s1")] == prewarmed
    assert _workers_in(cwd) == prewarmed


def test_upsert_starts_the_worker_the_next_start_uses(own_workers, tmp_path):
    """Scripts call ``upsert()`` right before ``start()``: the worker's interpreter start-up
    begins at the upsert. Nothing starts for an in-process session."""
    session, cwd = own_workers
    in_process = PipelineSession(store=tmp_path / "other", function_step_mode="in_process")
    Pipeline(name="inproc", steps=[_pid_chain(2)], sagemaker_session=in_process).upsert()
    pipeline = Pipeline(name="upserted", steps=[_pid_chain(2)], sagemaker_session=session)
    time.sleep(0.5)
    assert _workers_in(cwd) == [], "an in-process session started a worker"
    pipeline.upsert()
    deadline = time.monotonic() + 10
    while not _workers_in(cwd):
        assert time.monotonic() < deadline, "upsert() started no worker"
        time.sleep(0.01)
    prewarmed = _workers_in(cwd)
    execution = pipeline.start()
    execution.wait()
    assert [execution.result("s0"), execution.result("s1")] == prewarmed * 2
