"""The live progress view of ``wait()`` and ``sagepipe run``, read as a terminal shows it.

Real pipelines run in worker processes; their ``Train`` step prints and then waits for a flag
file, so the test decides when it goes on. The view writes to a stream that says it is a
terminal; a small interpreter of the escape sequences it uses turns that into the screen.
"""

import io
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest
from sagepipe import _progress, display
from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

DEADLINE = 120.0  # seconds; the machine may be loaded


def wait_for_flag(path: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"flag {path} never appeared")
        time.sleep(0.05)


def build(session, workdir: str) -> Pipeline:
    @step(name="Prepare")
    def prepare():
        print("prepared 3 rows")
        return 3

    @step(name="Train")
    def train(rows, flag):
        print("loading data", flush=True)
        print("epoch 1 loss 0.500\r\x1b[32mepoch 1 loss 0.250\x1b[0m", flush=True)
        wait_for_flag(flag)
        return rows * 2

    @step(name="Report")
    def report(model):
        return f"model {model}"

    flag = os.path.join(workdir, "go")
    return Pipeline(name="progress-demo", steps=[report(train(prepare(), flag))], sagemaker_session=session)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def screen(output: str) -> list:
    """The lines a terminal shows after ``output`` (the subset of escape sequences the view
    writes: cursor up N lines, clear line, clear to the end of the screen)."""
    rows, y, i = [""], 0, 0
    while i < len(output):
        sequence = re.match(r"\x1b\[(\??)(\d*)([A-Za-z])", output[i:])
        if sequence:
            mode, n, command = sequence.group(1), int(sequence.group(2) or 1), sequence.group(3)
            if mode:
                pass  # terminal modes (a line editor's), nothing on the screen
            elif command == "F":
                y = max(y - n, 0)
            elif command == "K":
                rows[y] = ""
            elif command == "J":
                del rows[y + 1 :]
                rows[y] = ""
            else:
                raise AssertionError(f"unexpected escape sequence {sequence.group(0)!r}")
            i += len(sequence.group(0))
            continue
        if output[i] == "\r":
            if not output.startswith("\n", i + 1):
                rows[y] = ""  # back to the start of the line: what follows writes over it
        elif output[i] == "\n":
            y += 1
            if y == len(rows):
                rows.append("")
        else:
            rows[y] += output[i]
        i += 1
    return [row for row in rows if row]


def step_line(lines: list, name: str) -> str:
    (line,) = [line for line in lines if re.match(rf"  . {name} ", line)]
    return line


def tick_until(view, stream, condition, what: str) -> list:
    deadline = time.monotonic() + DEADLINE
    while True:
        view.tick()
        lines = screen(stream.getvalue())
        if condition(lines):
            return lines
        if time.monotonic() > deadline:
            raise AssertionError(f"the view never showed {what}:\n" + "\n".join(lines))
        time.sleep(0.1)


def test_running_step_shows_elapsed_time_and_last_log_line(session, tmp_path):
    execution = build(session, str(tmp_path)).start()
    stream = FakeTerminal()
    view = _progress.open_view(execution, None, stream)
    assert view is not None and view.mode == "tty"
    try:
        lines = tick_until(view, stream, lambda ls: "epoch 1" in step_line(ls, "Train"), "Train's log line")
        # the last line as a terminal shows it: after the carriage return, without colour codes
        assert re.fullmatch(r"  > Train\s+running\s+\d+\.\d s  epoch 1 loss 0\.250", step_line(lines, "Train"))
        assert re.fullmatch(r"  \+ Prepare\s+succeeded\s+\d+\.\d\d s", step_line(lines, "Prepare"))
        assert re.fullmatch(r"  \. Report\s+pending", step_line(lines, "Report"))
        first = float(re.search(r"(\d+\.\d) s", step_line(lines, "Train")).group(1))
        lines = tick_until(
            view, stream, lambda ls: float(re.search(r"(\d+\.\d) s", step_line(ls, "Train")).group(1)) > first,
            "Train's time going on",
        )  # fmt: skip
        assert len(lines) == 4  # rewritten in place: one header and one line per step, never repeated
        # the notebook view's table shows the same
        dag, states, _ = view._read()
        table = display.steps_table_html(dag, states, now=time.time())
        train_row = re.search(r'<tr data-step="Train">(.*?)</tr>', table).group(1)
        assert re.search(r">running<.*<td>\d+\.\d s</td><td>epoch 1 loss 0\.250</td>", train_row), train_row
    finally:
        (tmp_path / "go").write_text("")
    execution.wait(progress=False)
    view.close()
    lines = screen(stream.getvalue())
    assert lines[0] == f"progress-demo {execution.arn.rsplit('/', 1)[-1]}: Succeeded"
    assert re.fullmatch(r"  \+ Train\s+succeeded\s+\d+\.\d\d s", step_line(lines, "Train"))  # no log line once done
    assert len(lines) == 4


def test_selective_run_shows_not_selected_and_reused_from_the_start(session, tmp_path):
    pipeline = build(session, str(tmp_path))
    (tmp_path / "go").write_text("")
    first = pipeline.start()
    first.wait(progress=False)
    os.remove(tmp_path / "go")
    first_id = first.arn.rsplit("/", 1)[-1]
    config = SelectiveExecutionConfig(["Train"], source_pipeline_execution_arn=first.arn)
    execution = pipeline.start(selective_execution_config=config)
    tty, plain = FakeTerminal(), io.StringIO()
    views = [_progress.ProgressView(execution, "tty", tty), _progress.ProgressView(execution, "plain", plain)]
    try:
        views[0].tick()
        views[1].tick()
        lines = screen(tty.getvalue())
        assert lines[0].endswith(": Executing")
        # From the first refresh: Report is not selected (not "pending"), Prepare says where it
        # is reused from and shows no time (its times are those of the first run).
        assert re.fullmatch(r"    Report\s+not selected", step_line(lines, "Report"))
        assert re.fullmatch(rf"  = Prepare\s+reused\s+from {first_id}", step_line(lines, "Prepare"))
        shown = plain.getvalue()
        assert f"[sagepipe]   Prepare: reused from {first_id}\n" in shown
        assert "[sagepipe]   Report: not selected\n" in shown
        assert "reused  reused" not in tty.getvalue() + shown
    finally:
        (tmp_path / "go").write_text("")
    execution.wait(progress=False)
    for view in views:
        view.close()
    lines = screen(tty.getvalue())
    assert re.fullmatch(r"    Report\s+not selected", step_line(lines, "Report"))
    assert re.fullmatch(r"  \+ Train\s+succeeded\s+\d+\.\d\d s", step_line(lines, "Train"))
    assert plain.getvalue().count("Report: not selected") == 1  # a plain line per change of state


def test_view_taller_than_the_terminal_keeps_running_steps(session, tmp_path, monkeypatch):
    monkeypatch.setenv("LINES", "4")  # room for 3 lines: header, the running step, a summary
    monkeypatch.setenv("COLUMNS", "80")
    execution = build(session, str(tmp_path)).start()
    stream = FakeTerminal()
    view = _progress.ProgressView(execution, "tty", stream)
    try:
        lines = tick_until(view, stream, lambda ls: any("epoch 1" in line for line in ls), "the running step")
        assert len(lines) == 3
        assert lines[1].startswith("  > Train ")
        assert lines[2] == "  ... and 1 succeeded, 1 pending"
    finally:
        (tmp_path / "go").write_text("")
    execution.wait(progress=False)


@pytest.mark.parametrize(
    "log, shown",
    [
        ("one\ntwo\n\n", "two"),
        ("10%\r50%\r100%\n", "100%"),
        ("\x1b[1mbold\x1b[0m\tdone\r\n", "bold done"),
        ("", ""),
    ],
)
def test_last_line_is_what_a_terminal_shows(log, shown):
    assert _progress.last_line(log) == shown


def test_failed_step_keeps_to_its_line_on_a_terminal(session, tmp_path):
    @step(name="Explode")
    def explode():
        raise ValueError("no rows to train on")

    execution = Pipeline(name="progress-failure", steps=[explode()], sagemaker_session=session).start()
    execution.wait(progress=False)
    tty, plain = FakeTerminal(), io.StringIO()
    for view in (_progress.ProgressView(execution, "tty", tty), _progress.ProgressView(execution, "plain", plain)):
        view.close()
    lines = screen(tty.getvalue())
    assert len(lines) == 2  # the traceback in the reason does not spill over the lines below
    assert re.fullmatch(r"  x Explode\s+failed\s+\d+\.\d\d s  ValueError: no rows to train on", lines[1])
    shown = plain.getvalue()
    assert "[sagepipe]   Explode: failed - ValueError: no rows to train on\n" in shown
    assert 'test_progress.py", line' in shown and 'raise ValueError("no rows to train on")' in shown  # in full


DEBUGGED_SCRIPT = """
import sys

from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession


@step(name="Inspect")
def inspect_rows(rows):
    print("hello from the step", flush=True)
    marker = rows * 2
    breakpoint()
    return marker


session = PipelineSession(store=sys.argv[1], function_step_mode="in_process")
execution = Pipeline(name="progress-pdb", steps=[inspect_rows(21)], sagemaker_session=session).start()
execution.wait()
print("result", execution.result("Inspect"))
"""


class TerminalSession:
    """A script run on a pseudo-terminal (stdin, stdout and stderr), and what it showed."""

    def __init__(self, script, *args):
        self.controller, terminal = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONBREAKPOINT", _progress.ENV)}
        self.proc = subprocess.Popen(
            [sys.executable, str(script), *map(str, args)],
            stdin=terminal, stdout=terminal, stderr=terminal, cwd=os.path.dirname(script), env=env,
        )  # fmt: skip
        os.close(terminal)
        self.shown = b""

    def read(self, timeout: float) -> bool:
        if not select.select([self.controller], [], [], timeout)[0]:
            return False
        try:
            chunk = os.read(self.controller, 65536)
        except OSError:  # the process ended
            return False
        self.shown += chunk
        return bool(chunk)

    def read_until(self, pattern) -> None:
        deadline = time.monotonic() + DEADLINE
        while not (re.search(pattern, self.shown) if isinstance(pattern, re.Pattern) else pattern in self.shown):
            if time.monotonic() > deadline or (not self.read(0.1) and self.proc.poll() is not None):
                raise AssertionError(f"never saw {pattern!r}:\n{self.shown.decode(errors='replace')}")

    def close(self) -> list:
        """Wait for the end; the screen's lines."""
        try:
            while self.read(0.1) or self.proc.poll() is None:
                pass
            assert self.proc.wait(timeout=DEADLINE) == 0, self.shown.decode(errors="replace")
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            os.close(self.controller)
        return screen(self.shown.decode(errors="replace"))


def test_terminal_view_leaves_an_in_process_pdb_session_alone(tmp_path):
    """``breakpoint()`` in an in-process step while the terminal view runs: the view does not
    draw over the pdb prompt while the step is stopped, and draws afresh below afterwards."""
    script = tmp_path / "debugged.py"
    script.write_text(DEBUGGED_SCRIPT)
    session = TerminalSession(script, tmp_path / "store")
    session.read_until(b"(Pdb) ")
    at_prompt = len(session.shown)
    quiet_until = time.monotonic() + 1.5  # the view refreshes every 0.2 s: it would show here
    while time.monotonic() < quiet_until:
        session.read(0.1)
    assert session.shown[at_prompt:] == b"", f"the view wrote over the pdb prompt: {session.shown[at_prompt:]!r}"
    os.write(session.controller, b"p marker\ncontinue\n")
    session.read_until(b"result 42")
    lines = session.close()
    assert "hello from the step" in lines  # not written over by the view
    assert lines.index("hello from the step") < lines.index("(Pdb) p marker") < lines.index("42")
    last_block = lines[lines.index("42") :]
    assert any(line.endswith(": Succeeded") for line in last_block), "\n".join(lines)  # drawn again below
    assert any(re.fullmatch(r"  \+ Inspect\s+succeeded\s+\d+\.\d\d s", line) for line in last_block), lines


TALKING_SCRIPT = """
import os
import sys
import time

from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession


def wait_for(path):
    deadline = time.monotonic() + 120
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)


@step(name="Talk")
def talk(workdir):
    print("first line from the step", flush=True)
    wait_for(os.path.join(workdir, "go1"))
    print("second line from the step", flush=True)
    wait_for(os.path.join(workdir, "go2"))
    return 1


session = PipelineSession(store=sys.argv[1], function_step_mode="in_process")
execution = Pipeline(name="progress-prints", steps=[talk(sys.argv[2])], sagemaker_session=session).start()
execution.wait()
"""


def test_terminal_view_does_not_write_over_in_process_prints(tmp_path):
    """What an in-process step prints reaches the terminal too; the view is drawn afresh below
    it instead of over it."""
    script = tmp_path / "talking.py"
    script.write_text(TALKING_SCRIPT)
    session = TerminalSession(script, tmp_path / "store", tmp_path)
    try:
        session.read_until(re.compile(rb"Talk +running .*first line from the step"))
        (tmp_path / "go1").write_text("")
        session.read_until(re.compile(rb"Talk +running .*second line from the step"))
    finally:
        (tmp_path / "go1").write_text("")
        (tmp_path / "go2").write_text("")
    lines = session.close()
    text = "\n".join(lines)
    assert "first line from the step" in lines and "second line from the step" in lines, text
    assert lines.index("first line from the step") < lines.index("second line from the step"), text
    assert lines[-2].endswith(": Succeeded") and re.fullmatch(r"  \+ Talk\s+succeeded\s+\d+\.\d\d s", lines[-1]), text
