"""A function-step worker process (``python -m sagepipe._worker``).

Reads one JSON task per line from stdin and answers one JSON line on its own copy of the
original stdout. While a task runs, file descriptors 1 and 2 go to the step's log, so what the
function (or a child process) prints never mixes with the protocol.

Workers are reused across executions of the process that started them. Before serving another
execution the engine asks ``{"kind": "check_fresh"}``; the worker answers ``{"fresh": false}``
(and is replaced) if a module it imported for a step changed on disk since the worker started
(its functions would be the stale ones) or if it could not undo what a step changed.
"""

import json
import os
import resource
import signal
import sys
import threading
import time
import zipimport

# Modules changed less than this before the worker started may have been read before the change
# (file times are coarser than the clock): such a worker is treated as stale, to be safe.
_CHANGE_SLACK_NS = 1_000_000_000

# Limits a step may lower for itself (e.g. to cap its memory); restored for the next task.
_RESTORED_LIMITS = [
    getattr(resource, n)
    for n in ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_RSS", "RLIMIT_CPU", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_FSIZE")
    if hasattr(resource, n)
]


def _exit_with_parent(parent: int) -> None:
    """If the process that owns this worker dies (even by SIGKILL), end this worker and anything
    it started, so no step keeps running for an execution nobody records."""
    while True:
        time.sleep(0.2)
        if os.getppid() != parent:
            try:
                os.killpg(0, signal.SIGKILL)
            finally:
                os._exit(1)


class _ProcessState:
    """What a task may change in this process and the next task must not see: environment
    variables, working directory, ``sys.path``, resource limits (each step is its own job on
    SageMaker). ``tainted`` when something could not be undone."""

    def __init__(self):
        self.environ = dict(os.environ)
        self.cwd = os.getcwd()
        self.path = list(sys.path)
        self.limits = {r: resource.getrlimit(r) for r in _RESTORED_LIMITS}
        self.tainted = False

    def restore(self) -> None:
        if dict(os.environ) != self.environ:
            os.environ.clear()
            os.environ.update(self.environ)
        try:
            if os.getcwd() != self.cwd:
                os.chdir(self.cwd)
        except OSError:
            self.tainted = True  # e.g. the directory was removed
        if sys.path != self.path:
            sys.path[:] = self.path
        for r, limit in self.limits.items():
            if resource.getrlimit(r) != limit:
                try:
                    resource.setrlimit(r, limit)
                except (ValueError, OSError):
                    self.tainted = True  # a hard limit lowered without privilege to raise it again


class _LoadedCode:
    """The modules steps imported into this worker, to tell whether any changed on disk since
    the worker started (a new execution must not run yesterday's version of the user's code)."""

    def __init__(self):
        self.started_ns = time.time_ns()
        self.baseline = set(sys.modules)

    def changed(self) -> bool:
        limit = self.started_ns - _CHANGE_SLACK_NS
        for name, module in list(sys.modules.items()):
            if name in self.baseline:
                continue
            path = getattr(module, "__file__", None)
            if not path or isinstance(getattr(module, "__loader__", None), zipimport.zipimporter):
                continue  # nothing on disk of its own to compare (built-in, or inside an archive)
            try:
                # ctime, not mtime: a replaced or touched file always gets a new ctime.
                if os.stat(path).st_ctime_ns >= limit:
                    return True
            except OSError:
                return True  # gone or unreadable: what was imported cannot be checked
        return False


def main() -> None:
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    proto_out = os.fdopen(os.dup(1), "w", buffering=1)
    proto_in = os.fdopen(os.dup(0), "r")
    # User code must not read the protocol: give it an empty stdin.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull)

    # What every task needs, loaded while the worker waits for its first one: the unpickler,
    # and the engine and object reader through which results are read and written.
    import cloudpickle  # noqa: F401

    import sagepipe._core  # noqa: F401
    import sagepipe._s3_objects  # noqa: F401

    if os.environ.get("SAGEPIPE_ROUTE_AWS"):  # boto3 in a function answers from the store, too
        from sagepipe._service import route_from_environment

        route_from_environment()

    from sagepipe._runtime import _fd_capture, run_task

    state = _ProcessState()
    code = _LoadedCode()
    for line in proto_in:
        if not line.strip():
            continue
        if line.startswith('{"kind": "check_fresh"'):
            answer = json.dumps({"fresh": not state.tainted and not code.changed()})
        else:
            answer = run_task(line, capture=_fd_capture)
            state.restore()
        try:
            proto_out.write(answer + "\n")
            proto_out.flush()
        except BrokenPipeError:
            # The owner closed its end: nobody wants this answer or another. Leave without a
            # traceback on the terminal both processes share (and without a flush at exit).
            os._exit(0)


if __name__ == "__main__":
    main()
