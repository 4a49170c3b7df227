"""A function-step worker process (``python -m sagepipe._worker``).

Reads one JSON task per line from stdin and answers one JSON line on its own copy of the
original stdout. While a task runs, file descriptors 1 and 2 go to the step's log, so what the
function (or a child process) prints never mixes with the protocol.
"""

import os
import resource
import signal
import sys
import threading
import time

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
    variables, working directory, resource limits (each step is its own job on SageMaker)."""

    def __init__(self):
        self.environ = dict(os.environ)
        self.cwd = os.getcwd()
        self.limits = {r: resource.getrlimit(r) for r in _RESTORED_LIMITS}

    def restore(self) -> None:
        if dict(os.environ) != self.environ:
            os.environ.clear()
            os.environ.update(self.environ)
        if os.getcwd() != self.cwd:
            os.chdir(self.cwd)
        for r, limit in self.limits.items():
            if resource.getrlimit(r) != limit:
                try:
                    resource.setrlimit(r, limit)
                except (ValueError, OSError):
                    pass  # a hard limit lowered without privilege to raise it again stays


def main() -> None:
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    proto_out = os.fdopen(os.dup(1), "w", buffering=1)
    proto_in = os.fdopen(os.dup(0), "r")
    # User code must not read the protocol: give it an empty stdin.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull)

    from sagepipe._runtime import _fd_capture, run_task

    state = _ProcessState()
    for line in proto_in:
        if not line.strip():
            continue
        answer = run_task(line, capture=_fd_capture)
        state.restore()
        proto_out.write(answer + "\n")
        proto_out.flush()


if __name__ == "__main__":
    main()
