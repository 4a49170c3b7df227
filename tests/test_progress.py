"""The live progress view of ``wait()`` and ``sagepipe run``, read as a terminal shows it.

Real pipelines run in worker processes; their ``Train`` step prints and then waits for a flag
file, so the test decides when it goes on. The view writes to a stream that says it is a
terminal; a small interpreter of the escape sequences it uses turns that into the screen.
"""

import io
import os
import re
import time

import pytest
from sagepipe import _progress
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
        sequence = re.match(r"\x1b\[(\d*)([A-Za-z])", output[i:])
        if sequence:
            n, command = int(sequence.group(1) or 1), sequence.group(2)
            if command == "F":
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
        if output[i] == "\n":
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
