"""Debugging ``@step`` functions: their code runs under its real file name and line numbers.

In-process steps (``function_step_mode="in_process"``) stop at breakpoints set by file and line
(pdb, or a debugger tracing new threads as IDEs do) and ``breakpoint()`` lists their source; a
failing step's ``FailureReason`` and log name the user's file and line in both modes.
"""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

STEPS_SOURCE = textwrap.dedent(
    """\
    from sagepipe.workflow.function_step import step


    @step(name="Double")
    def double(x):
        doubled = x * 2
        return doubled


    @step(name="Boom")
    def boom(value):
        message = f"bad value {value}"
        raise ValueError(message)


    @step(name="Pause")
    def pause(x):
        marker = "in pause"
        breakpoint()
        return x + 1
    """
)
DOUBLE_BODY_LINE = 6  # doubled = x * 2
BOOM_RAISE_LINE = 13  # raise ValueError(message)

RUNNER_SOURCE = textwrap.dedent(
    """\
    import sys

    from sagepipe.workflow.pipeline import Pipeline
    from sagepipe.workflow.pipeline_context import PipelineSession

    import user_steps

    session = PipelineSession(store=sys.argv[1], function_step_mode="in_process")
    make = getattr(user_steps, sys.argv[2])
    pipeline = Pipeline(name="debugged", steps=[make(20)], sagemaker_session=session)
    execution = pipeline.start()
    execution.wait(progress=False)
    print("status", execution.describe()["PipelineExecutionStatus"])
    """
)


@pytest.fixture
def user_steps(tmp_path):
    """The steps module, a real file in the user's project (tmp_path), imported from there."""
    path = tmp_path / "user_steps.py"
    path.write_text(STEPS_SOURCE)
    spec = importlib.util.spec_from_file_location(f"user_steps_{tmp_path.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_pipeline(session, step):
    from sagepipe.workflow.pipeline import Pipeline

    pipeline = Pipeline(name="debugged", steps=[step], sagemaker_session=session)
    execution = pipeline.start()
    execution.wait(progress=False)
    return execution


@pytest.mark.parametrize("mode", ["in_process", "worker"])
def test_failing_step_names_the_users_file_and_line(tmp_path, user_steps, mode):
    from sagepipe.workflow.pipeline_context import PipelineSession

    session = PipelineSession(store=tmp_path / "store", function_step_mode=mode)
    execution = _run_pipeline(session, user_steps.boom(7))
    (record,) = execution.list_steps()
    assert record["StepStatus"] == "Failed"
    where = f'File "{tmp_path / "user_steps.py"}", line {BOOM_RAISE_LINE}, in boom'
    reason = record["FailureReason"]
    assert reason.startswith("ValueError: bad value 7")
    assert where in reason, reason
    assert "raise ValueError(message)" in reason  # the source line, read from the user's file
    assert "<dynamic-code>" not in reason
    assert "_runtime.py" not in reason  # sagepipe's own frames say nothing to the user
    log = execution.logs("Boom")
    assert where in log and "raise ValueError(message)" in log, log


def test_breakpoint_by_file_and_line_hits_in_process_step(tmp_path, user_steps):
    """``python -m pdb``, a breakpoint set by file:line in the steps module, ``continue``: the
    debugger stops inside the step (an engine thread), shows the line and the locals."""
    (tmp_path / "run.py").write_text(RUNNER_SOURCE)
    steps_file = tmp_path / "user_steps.py"
    commands = f"break {steps_file}:{DOUBLE_BODY_LINE}\ncontinue\np x\nnext\np doubled\nlist\ncontinue\nquit\n"
    cmd = [sys.executable, "-m", "pdb", "run.py", str(tmp_path / "store"), "double"]
    out = _run_under_stdin(tmp_path, cmd, commands)
    assert f"> {steps_file}({DOUBLE_BODY_LINE})double()" in out, out
    assert "-> doubled = x * 2" in out
    assert "\n(Pdb) 20\n" in out  # p x
    assert "\n(Pdb) 40\n" in out  # p doubled, after `next`
    assert "->\t    return doubled" in out  # `list` shows the source around the current line
    assert "status Succeeded" in out


def test_breakpoint_call_in_in_process_step_lists_its_source(tmp_path, user_steps):
    (tmp_path / "run.py").write_text(RUNNER_SOURCE)
    steps_file = tmp_path / "user_steps.py"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONBREAKPOINT"}
    cmd = [sys.executable, "run.py", str(tmp_path / "store"), "pause"]
    out = _run_under_stdin(tmp_path, cmd, "list\np marker\ncontinue\n", env)
    assert f"> {steps_file}(20)pause()" in out, out  # the line after breakpoint()
    assert '18  \t    marker = "in pause"' in out  # `list` shows the file's lines
    assert "20  ->\t    return x + 1" in out
    assert "'in pause'" in out
    assert "status Succeeded" in out


def test_debugger_tracing_new_threads_sees_in_process_steps(tmp_path, user_steps, in_process_session):
    """A debugger that traces new threads (``threading.settrace``, as IDE debuggers do) sees the
    step's lines under the user's file name, though steps run in threads the engine started."""
    steps_file = str(tmp_path / "user_steps.py")
    seen = []

    def trace(frame, event, arg):
        if frame.f_code.co_filename != steps_file:
            return None
        if event == "line":
            seen.append((frame.f_code.co_name, frame.f_lineno, threading.current_thread() is threading.main_thread()))
        return trace

    threading.settrace(trace)
    try:
        execution = _run_pipeline(in_process_session, user_steps.double(4))
    finally:
        threading.settrace(None)
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert execution.result("Double") == 8
    assert ("double", DOUBLE_BODY_LINE, False) in seen, seen
    assert ("double", DOUBLE_BODY_LINE + 1, False) in seen


def _run_under_stdin(cwd, cmd, commands: str, env=None) -> str:
    proc = subprocess.run(
        cmd, cwd=cwd, input=commands, capture_output=True, text=True, timeout=120, env=env or dict(os.environ)
    )
    return proc.stdout + proc.stderr


def test_payload_names_its_file_but_signature_does_not_depend_on_where_the_project_lives(tmp_path, monkeypatch):
    """Two checkouts of one project: each payload's function runs under its own file name, and
    the code signature that caching and reuse compare is the same for both."""
    from sagepipe._code_hash import SIDECAR_SUFFIX
    from sagepipe.workflow._function_payload import PAYLOAD_FILE, load_payload, write_payload

    signatures, file_names = [], []
    for checkout in ("first", "second"):
        project = tmp_path / checkout
        project.mkdir()
        (project / "user_steps.py").write_text(STEPS_SOURCE)
        monkeypatch.chdir(project)
        spec = importlib.util.spec_from_file_location(f"user_steps_{checkout}", project / "user_steps.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        func = module.double.__wrapped__
        digest, _ = write_payload(str(tmp_path / "payloads" / checkout), func, (3,), {})
        payload = tmp_path / "payloads" / checkout / digest / PAYLOAD_FILE
        signatures.append(json.loads((payload.parent / (PAYLOAD_FILE + SIDECAR_SUFFIX)).read_text()))
        loaded = load_payload(str(payload))["func"]
        file_names.append(loaded.__code__.co_filename)
        assert loaded(5) == 10
    assert file_names == [str(tmp_path / "first" / "user_steps.py"), str(tmp_path / "second" / "user_steps.py")]
    assert signatures[0]["normalized_sha256"] == signatures[1]["normalized_sha256"]
