"""Runs the Python side of steps for the engine: ``@step`` functions (in a worker process or
in-process) and steps of types with a registered local handler.

The engine sends a task as JSON and gets an answer as JSON: ``{"ok": true, "artifacts": [...],
"properties": {...}, "metadata": {...}}`` or ``{"ok": false, "reason": ..., "error": {...}}``.
"""

import base64
import contextlib
import functools
import hashlib
import io
import json
import os
import sys
import threading
import traceback
from typing import Any, Callable, Dict, Optional, TextIO

from sagepipe.workflow._function_payload import (
    EXCEPTION_FILE,
    JSON_RESULTS_FILE,
    JSON_SERIALIZED_RESULT_KEY,
    PAYLOAD_FILE,
    RESULT_FILE,
    load_payload,
    restore_pipeline_variables,
    write_atomic,
)

# Step type -> handler(task: dict) -> answer dict. Filled by sagepipe.local_runners.register_step_type.
STEP_HANDLERS: Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]] = {}

_REASON_TAIL_LINES = 12


def load_result(store_root: str, results_uri: str) -> Any:
    """The return value a function step stored at ``results_uri``."""
    import cloudpickle

    from sagepipe._s3_objects import open_object

    with open_object(_store(store_root), f"{results_uri.rstrip('/')}/{RESULT_FILE}") as f:
        return cloudpickle.load(f)


@functools.lru_cache(maxsize=8)
def _store(root: str):
    """One store handle per root: opening one checks (and makes) its directories."""
    from sagepipe._core import Store

    return Store(root)


def _user_traceback(exc: BaseException) -> str:
    """The traceback of a step's exception from the step's own code on: the frames of this
    module that called it say nothing to the user (all of them when the fault is ours)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


def _failure_reason(exc: BaseException, tb: str) -> str:
    lines = tb.rstrip().splitlines()
    tail = "\n".join(lines[-_REASON_TAIL_LINES:])
    head = f"{type(exc).__name__}: {exc}"
    return head if tail.endswith(head) and len(lines) <= 1 else f"{head}\n{tail}"


@contextlib.contextmanager
def _environment(overlay: Optional[Dict[str, str]]):
    """Apply a step's ``Environment`` for the duration of the call, then restore. Only the
    variables that differ are touched: most steps carry values the process already has."""
    changed = {k: str(v) for k, v in (overlay or {}).items() if os.environ.get(k) != str(v)}
    if not changed:
        yield
        return
    saved = {k: os.environ.get(k) for k in changed}
    os.environ.update(changed)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _open_append(path: str) -> TextIO:
    """Open a log for appending; its directory is made only when missing (the engine makes it)."""
    try:
        return open(path, "a")
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return open(path, "a")


def _make_dir(path: str) -> None:
    """``os.makedirs(path, exist_ok=True)`` without its checks: one mkdir per missing level."""
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except FileNotFoundError:
        parent = os.path.dirname(path)
        if parent == path:
            raise
        _make_dir(parent)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)


def _write_artifact(results_dir: str, name: str, data: bytes, base_uri: str) -> Dict[str, Any]:
    """Write one result file atomically (temporary file, then rename) and return its artifact
    record, so the engine need not read back and hash what was just written."""
    path = os.path.join(results_dir, name)
    tmp = f"{path}.tmp.{os.getpid()}.{threading.get_ident()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        stat = os.fstat(fd)  # the mtime the renamed file keeps
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, path)
    return {
        "Uri": f"{base_uri}/{name}",
        "Size": stat.st_size,
        "MtimeNs": stat.st_mtime_ns,
        "Sha256": hashlib.sha256(data).hexdigest(),
    }


@contextlib.contextmanager
def _fd_capture(log_path: str):
    """Send file descriptors 1 and 2 (this process and its children) to the step's log."""
    sys.stdout.flush()
    sys.stderr.flush()
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    try:
        fd = os.open(log_path, flags, 0o644)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        fd = os.open(log_path, flags, 0o644)
    saved = os.dup(1), os.dup(2)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (fd, *saved):
            os.close(f)


class _StepLog:
    """A step's log file, created on the first write: most steps print nothing."""

    def __init__(self, path: str):
        self.path = path
        self.file: Optional[TextIO] = None

    def write(self, s: str) -> None:
        if self.file is None:
            self.file = _open_append(self.path)
        self.file.write(s)

    def flush(self) -> None:
        if self.file is not None:
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


_echoed_writes = 0  # writes in-process steps made to the terminal (the progress view redraws below them)


def echoed_writes() -> int:
    """How many writes in-process steps made to the terminal so far."""
    return _echoed_writes


class _ThreadRoutedStream(io.TextIOBase):
    """Stands in for ``sys.stdout``/``sys.stderr`` while in-process steps run: writes go to the
    original stream, and also to the log of the step the writing thread runs, if any.

    Steps run in parallel threads, so swapping ``sys.stdout`` per step (``redirect_stdout``)
    would mix their logs and, as the swaps interleave, leave a closed log installed.
    """

    def __init__(self, original, logs: threading.local):
        self.original = original
        self._logs = logs

    def write(self, s):
        global _echoed_writes
        self.original.write(s)
        log = getattr(self._logs, "file", None)
        if log is not None:
            log.write(s)
            _echoed_writes += 1  # a step's output on the terminal (unlocked: only compared)
        return len(s)

    def isatty(self):
        # what the stream leads to: a progress view opened while in-process steps run asks
        return self.original.isatty()

    def flush(self):
        self.original.flush()
        log = getattr(self._logs, "file", None)
        if log is not None:
            log.flush()


_capture_lock = threading.Lock()
_capture_users = 0
_capture_logs = threading.local()


@contextlib.contextmanager
def _python_capture(log_path: str):
    """In-process: copy what the step's thread prints to the step's log (and still show it)."""
    global _capture_users
    log = _StepLog(log_path)
    with _capture_lock:
        if _capture_users == 0:
            sys.stdout = _ThreadRoutedStream(sys.stdout, _capture_logs)
            sys.stderr = _ThreadRoutedStream(sys.stderr, _capture_logs)
        _capture_users += 1
    _capture_logs.file = log
    try:
        yield
    finally:
        _capture_logs.file = None
        log.close()
        with _capture_lock:
            _capture_users -= 1
            if _capture_users == 0:
                for name in ("stdout", "stderr"):
                    stream = getattr(sys, name)
                    if isinstance(stream, _ThreadRoutedStream):
                        setattr(sys, name, stream.original)


def _run_function(task: Dict[str, Any], capture) -> Dict[str, Any]:
    import cloudpickle

    store_root = task["store_root"]
    results_dir = task["results_dir"]
    payload = load_payload(os.path.join(task["payload_dir"], PAYLOAD_FILE))
    values = task.get("property_references") or {}
    load = lambda uri: load_result(store_root, uri)  # noqa: E731
    try:
        args = restore_pipeline_variables(payload["args"], values, load)
        kwargs = restore_pipeline_variables(payload["kwargs"], values, load)
    except (OSError, KeyError, IndexError, TypeError) as e:
        return {
            "ok": False,
            "failure_kind": "permanent",
            "reason": f"cannot load the inputs of step '{task['step_name']}': {type(e).__name__}: {e}",
        }
    try:
        with capture(task["log_path"]), _environment(task.get("environment")):
            result = payload["func"](*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001 - the user's exception is the step's failure
        if isinstance(exc, (KeyboardInterrupt, SystemExit)) and capture is _python_capture:
            raise
        tb = _user_traceback(exc)
        _make_dir(results_dir)
        try:
            write_atomic(os.path.join(results_dir, EXCEPTION_FILE), cloudpickle.dumps(exc))
        except Exception:  # noqa: BLE001 - not every exception pickles
            pass
        with _open_append(task["log_path"]) as log:
            log.write(tb)
        return {
            "ok": False,
            "reason": _failure_reason(exc, tb),
            "error": {
                "type": f"{type(exc).__module__}.{type(exc).__qualname__}",
                "message": str(exc),
                "traceback": tb,
            },
        }
    outputs = [(RESULT_FILE, cloudpickle.dumps(result))]
    try:
        text = json.dumps({JSON_SERIALIZED_RESULT_KEY: result})
    except (TypeError, ValueError):
        text = None  # not JSON-serializable: only other @step functions can consume it
    if text is not None:
        outputs.append((JSON_RESULTS_FILE, text.encode()))
    base = task["results_uri"].rstrip("/")
    if all(len(data) <= _inline_limit() for _, data in outputs):
        # Small results go back in the answer: the engine keeps them in the store's database,
        # written with the step's record (no file, no directory).
        inline = [{"Uri": f"{base}/{name}", "Inline": base64.b64encode(data).decode()} for name, data in outputs]
        return {"ok": True, "artifacts": inline}
    _make_dir(os.path.dirname(results_dir))  # the step's directory: new, like its results'
    _make_dir(results_dir)
    return {"ok": True, "artifacts": [_write_artifact(results_dir, name, data, base) for name, data in outputs]}


@functools.lru_cache(maxsize=1)
def _inline_limit() -> int:
    from sagepipe._core import INLINE_LIMIT

    return INLINE_LIMIT


def _run_external(task: Dict[str, Any]) -> Dict[str, Any]:
    handler = STEP_HANDLERS.get(task["step_type"])
    if handler is None:
        return {"ok": False, "failure_kind": "permanent", "reason": f"no local handler for type {task['step_type']}"}
    try:
        return handler(task)
    except Exception as exc:  # noqa: BLE001 - a handler error is the step's failure
        tb = traceback.format_exc()
        return {
            "ok": False,
            "reason": _failure_reason(exc, tb),
            "error": {"type": type(exc).__name__, "message": str(exc), "traceback": tb},
        }


def run_task(task_json: str, capture=None) -> str:
    """Run one engine task; always answers JSON (never raises for a step's own failure)."""
    task = json.loads(task_json)
    try:
        if task.get("kind") == "function":
            answer = _run_function(task, capture or _python_capture)
        else:
            answer = _run_external(task)
    except Exception as exc:  # noqa: BLE001 - report runner faults as a step failure
        answer = {
            "ok": False,
            "failure_kind": "service",
            "reason": f"{type(exc).__name__}: {exc}",
            "error": {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()},
        }
    return json.dumps(answer)


def host_call(task_json: str) -> str:
    """The engine's in-process host."""
    return run_task(task_json, capture=_python_capture)


def host_for_this_thread() -> Callable[[str], str]:
    """The in-process host for an execution this thread starts: steps run in engine threads,
    which Python's ``threading`` did not start, so no debugger traces them by itself. Each task
    gets the trace function a debugger installed for new threads (``threading.settrace``, as
    IDE debuggers do), else the pdb (any ``bdb.Bdb``) tracing this thread now (``python -m pdb``,
    ``pdb.set_trace()``), so breakpoints set by file and line hit inside steps."""
    import bdb

    trace = sys.gettrace()
    debugger = trace if isinstance(getattr(trace, "__self__", None), bdb.Bdb) else None

    def traced_host_call(task_json: str) -> str:
        new_thread_trace = _threading_trace() or debugger
        if new_thread_trace is None or sys.gettrace() is not None:
            return host_call(task_json)
        sys.settrace(new_thread_trace)
        try:
            return host_call(task_json)
        finally:
            sys.settrace(None)

    return traced_host_call


def _threading_trace():
    """``threading.gettrace()`` (Python 3.10+; the same hook before)."""
    gettrace = getattr(threading, "gettrace", None)
    return gettrace() if gettrace is not None else getattr(threading, "_trace_hook", None)
