"""Live step states while an execution runs (``wait(progress=...)`` and ``sagepipe run``).

Three views, chosen by where the output goes: a terminal gets one line per step rewritten in
place; a pipe or log file gets a plain line each time a step changes state; a notebook gets an
HTML table updated in place through an IPython display handle. ``SAGEPIPE_PROGRESS=0`` turns
every view off, ``SAGEPIPE_PROGRESS=1`` turns them on where they would be off (non-interactive).
"""

import os
import shutil
import sys
from typing import Any, Dict, Optional, TextIO

from sagepipe import display

ENV = "SAGEPIPE_PROGRESS"

_SYMBOLS = {
    "succeeded": "+",
    "failed": "x",
    "running": ">",
    "stopped": "-",
    "reused": "=",
    "cache-hit": "=",
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
        self._shown_lines = 0
        self._last: Dict[str, str] = {}
        self._handle = None

    def _read(self):
        dag, states, record = display.execution_states(self.execution, self._dag)
        self._dag = dag
        return dag, states, record

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

    def _lines(self, dag, states, record):
        width = max(shutil.get_terminal_size((100, 20)).columns - 1, 20)
        name_width = max([len(n) for n in states] + [4])
        lines = [f"{record['PipelineName']} {record['ExecutionId']}: {record['PipelineExecutionStatus']}"]
        for name in dag.get("order") or list(states):
            info = states[name]
            note = display.step_note(info.get("record"))
            time_taken = display._seconds(info.get("record"))
            symbol = _SYMBOLS.get(info["state"], "?")
            line = f"  {symbol} {name:<{name_width}}  {info['state']:<9} {time_taken:>9}  {note}"
            lines.append(line.rstrip()[:width])
        return lines

    def _show_tty(self, dag, states, record) -> None:
        lines = self._lines(dag, states, record)
        out = []
        if self._shown_lines:
            out.append(f"\x1b[{self._shown_lines}F")  # back to the first line shown last time
        out.extend(f"\x1b[2K{line}\n" for line in lines)
        self.stream.write("".join(out))
        self.stream.flush()
        self._shown_lines = len(lines)

    def _show_plain(self, dag, states, record) -> None:
        current = {name: info["state"] for name, info in states.items()}
        current[""] = record["PipelineExecutionStatus"]
        for name in [""] + (dag.get("order") or list(states)):
            if self._last.get(name) == current[name] or current[name] == "pending":
                continue
            if name == "":
                self.stream.write(f"[sagepipe] {record['PipelineName']} {record['ExecutionId']}: {current['']}\n")
            elif current[name] != "not-run" or current[""] in display._TERMINAL:
                note = display.step_note(states[name].get("record"))
                self.stream.write(f"[sagepipe]   {name}: {current[name]}{'  ' + note if note else ''}\n")
            else:
                continue
            self._last[name] = current[name]
        self.stream.flush()

    def _show_notebook(self, dag, states, record) -> None:
        from IPython.display import HTML
        from IPython.display import display as ipython_display

        title = f"<b>{record['PipelineName']} {record['ExecutionId']}: {record['PipelineExecutionStatus']}</b>"
        page = HTML(title + display.steps_table_html(dag, states))
        if self._handle is None:
            self._handle = ipython_display(page, display_id=True)
        else:
            self._handle.update(page)


def open_view(execution, requested: Optional[bool], stream: Optional[TextIO] = None) -> Optional[ProgressView]:
    """A progress view for ``execution`` or None when progress is off (see :func:`choose_view`)."""
    stream = stream or sys.stderr
    mode = choose_view(requested, stream)
    if mode is None or execution._record()["PipelineExecutionStatus"] in display._TERMINAL:
        return None  # nothing to watch (e.g. `result()` waiting on an execution that already ended)
    return ProgressView(execution, mode, stream)
