"""Live step states while an execution runs (``wait(progress=...)`` and ``sagepipe run``).

Three views, chosen by where the output goes: a terminal gets one line per step rewritten in
place; a pipe or log file gets a plain line each time a step changes state; a notebook gets an
HTML table updated in place through an IPython display handle. ``SAGEPIPE_PROGRESS=0`` turns
every view off, ``SAGEPIPE_PROGRESS=1`` turns them on where they would be off (non-interactive).
"""

import os
import re
import sys
import threading
import time
from types import FrameType
from typing import Any, Dict, List, Optional, TextIO

from sagepipe import display

ENV = "SAGEPIPE_PROGRESS"

_SYMBOLS = {
    "succeeded": "+",
    "failed": "x",
    "running": ">",
    "stopped": "-",
    "reused": "=",
    "cache-hit": "=",
    "not-selected": " ",
    "not-run": " ",
    "pending": ".",
}


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def choose_view(requested: Optional[bool], stream: TextIO) -> Optional[str]:
    """``"notebook"``, ``"tty"``, ``"plain"`` or ``None`` (off).

    ``requested`` False is off; None is on only when interactive; True is on. The environment
    variable ``SAGEPIPE_PROGRESS`` overrides: ``0`` off whatever was requested, ``1`` on.
    """
    setting = os.environ.get(ENV, "").strip().lower()
    if requested is False or setting in ("0", "false", "no", "off"):
        return None
    notebook = _in_notebook()
    tty = hasattr(stream, "isatty") and stream.isatty()
    if requested is None and setting not in ("1", "true", "yes", "on") and not (notebook or tty):
        return None
    if notebook:
        return "notebook"
    return "tty" if tty else "plain"


class ProgressView:
    """Reads an execution's live state and shows it; ``tick()`` refreshes, ``close()`` finishes."""

    def __init__(self, execution, mode: str, stream: TextIO):
        self.execution = execution
        self.mode = mode
        self.stream = stream
        self._dag: Optional[Dict[str, Any]] = None
        self._shown: List[str] = []
        self._last: Dict[str, str] = {}
        self._handle = None
        self._log_paths: Dict[str, str] = {}
        self._echoes_seen = 0  # in-process step writes to the terminal when last drawn

    def _read(self):
        dag, states, record = display.execution_states(self.execution, self._dag)
        self._dag = dag
        for name, info in states.items():
            if info["state"] == "running":
                info["last_log_line"] = self._last_log_line(name)
        return dag, states, record

    def _last_log_line(self, step: str) -> str:
        path = self._log_paths.get(step)
        if path is None:
            path = self._log_paths[step] = self.execution._store.log_path(self.execution.arn, step)
        try:
            with open(path, "rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(size - _LOG_TAIL_BYTES, 0))
                tail = f.read()
        except OSError:
            return ""
        return last_line(tail.decode("utf-8", errors="replace"))

    def tick(self) -> None:
        try:
            dag, states, record = self._read()
        except Exception:  # a progress view never breaks the wait it decorates
            return
        getattr(self, f"_show_{self.mode}")(dag, states, record)

    def close(self) -> None:
        self.tick()
        if self.mode == "tty":
            self.stream.flush()

    # ---- views ----

    def _lines(self, dag, states, record) -> List[str]:
        import shutil  # only when drawing on a terminal

        size = shutil.get_terminal_size((100, 24))
        width = max(size.columns - 1, 20)
        now = time.time()
        name_width = max([len(n) for n in states] + [4])
        lines = [f"{record['PipelineName']} {record['ExecutionId']}: {record['PipelineExecutionStatus']}"]
        for name in dag.get("order") or list(states):
            info = states[name]
            state, took, detail = info["state"], display.step_time(info, now), _first_line(display.step_detail(info))
            label = state.replace("-", " ")
            line = f"  {_SYMBOLS.get(state, '?')} {name:<{name_width}}  {label:<12} {took:>9}  {detail}"
            lines.append(line.rstrip()[:width])
        return _fit(lines, [states[n]["state"] for n in dag.get("order") or list(states)], max(size.lines - 1, 3))

    def _show_tty(self, dag, states, record) -> None:
        if _debugger_active():
            # A step is stopped in pdb on this terminal: redrawing would write over its prompt.
            # Draw afresh below whatever the session printed once it goes on.
            self._shown = []
            return
        echoes = _in_process_echoes()
        if echoes != self._echoes_seen:
            self._echoes_seen = echoes
            self._shown = []  # an in-process step printed to this terminal, below the lines shown
        lines = self._lines(dag, states, record)
        if lines == self._shown:
            return
        out = []
        if self._shown:
            out.append(f"\x1b[{len(self._shown)}F")  # back to the first line shown last time
        out.extend(f"\x1b[2K{line}\n" for line in lines)
        if len(lines) < len(self._shown):  # fewer lines than last time: clear the rest
            out.append("\x1b[0J")
        self.stream.write("".join(out))
        self.stream.flush()
        self._shown = lines

    def _show_plain(self, dag, states, record) -> None:
        current = {name: info["state"] for name, info in states.items()}
        current[""] = record["PipelineExecutionStatus"]
        steps = dag.get("order") or list(states)
        # The execution's line comes first while it runs and last once it ended, after the steps
        # whose ending ended it.
        for name in steps + [""] if display.is_terminal(current[""]) else [""] + steps:
            if self._last.get(name) == current[name] or current[name] == "pending":
                continue
            if name == "":
                self.stream.write(f"[sagepipe] {record['PipelineName']} {record['ExecutionId']}: {current['']}\n")
            elif current[name] != "not-run" or display.is_terminal(current[""]):
                label = current[name].replace("-", " ")
                # a log is the place for a running step's output; a failure's reason goes in full
                detail = "" if current[name] == "running" else display.step_detail(states[name])
                if detail:  # "reused from X"; "failed - ValueError: ..."
                    label += f" {detail}" if detail.startswith("from ") else f" - {detail}"
                self.stream.write(f"[sagepipe]   {name}: {label}\n")
            else:
                continue
            self._last[name] = current[name]
        self.stream.flush()

    def _show_notebook(self, dag, states, record) -> None:
        from IPython.display import HTML
        from IPython.display import display as ipython_display

        title = f"<b>{record['PipelineName']} {record['ExecutionId']}: {record['PipelineExecutionStatus']}</b>"
        page = HTML(title + display.steps_table_html(dag, states, now=time.time()))
        if self._handle is None:
            self._handle = ipython_display(page, display_id=True)
        else:
            self._handle.update(page)


_LOG_TAIL_BYTES = 4096
_ESCAPE_SEQUENCE = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def last_line(text: str) -> str:
    """The last non-blank line of a log as a terminal would show it: what follows the last
    carriage return (progress bars redraw a line that way), without escape sequences or tabs."""
    for line in reversed(text.split("\n")):
        shown = line.rstrip("\r").rsplit("\r", 1)[-1]
        shown = _CONTROL.sub(" ", _ESCAPE_SEQUENCE.sub("", shown.replace("\t", " "))).strip()
        if shown:
            return shown
    return ""


def _first_line(text: str) -> str:
    """A step's note on one line (a failure reason goes on with its traceback)."""
    return text.split("\n", 1)[0].strip()


def _fit(lines: List[str], states: List[str], rows: int) -> List[str]:
    """At most ``rows`` lines (a block taller than the terminal cannot be rewritten in place):
    steps that are running, failed or stopped stay; the others are counted on one line."""
    if len(lines) <= rows:
        return lines
    keep = [line for line, state in zip(lines[1:], states) if state in ("running", "failed", "stopped")]
    keep = keep[: max(rows - 2, 1)]
    hidden: Dict[str, int] = {}
    for state in states:
        hidden[state] = hidden.get(state, 0) + 1
    for line, state in zip(lines[1:], states):
        if line in keep:
            hidden[state] -= 1
    summary = ", ".join(f"{n} {state.replace('-', ' ')}" for state, n in hidden.items() if n)
    return [lines[0]] + keep + [f"  ... and {summary}"]


def _debugger_active() -> bool:
    """Whether another thread of this process is stopped in pdb (an in-process step's
    ``breakpoint()`` or breakpoint)."""
    pdb = sys.modules.get("pdb")
    if pdb is None:  # nothing can be stopped at a pdb prompt
        return False
    # At its prompt, not merely traced: a traced thread passes through bdb on every call.
    prompt_file = pdb.__file__
    current = threading.get_ident()
    for ident, top in sys._current_frames().items():
        if ident == current:
            continue
        frame: Optional[FrameType] = top
        while frame is not None:
            if frame.f_code.co_filename == prompt_file and frame.f_code.co_name == "interaction":
                return True
            frame = frame.f_back
    return False


def _in_process_echoes() -> int:
    """How many writes in-process steps made to this terminal so far (jobs write to their logs
    only, so their output never moves the lines shown)."""
    from sagepipe import _runtime

    return _runtime.echoed_writes()


def open_view(execution, requested: Optional[bool], stream: Optional[TextIO] = None) -> Optional[ProgressView]:
    """A progress view for ``execution`` or None when progress is off (see :func:`choose_view`)."""
    stream = stream or sys.stderr
    mode = choose_view(requested, stream)
    if mode is None or display.is_terminal(execution._record()["PipelineExecutionStatus"]):
        return None  # nothing to watch (e.g. `result()` waiting on an execution that already ended)
    return ProgressView(execution, mode, stream)
