"""A function-step worker process (``python -m sagepipe._worker``).

Reads one JSON task per line from stdin and answers one JSON line on its own copy of the
original stdout. While a task runs, file descriptors 1 and 2 go to the step's log, so what the
function (or a child process) prints never mixes with the protocol.
"""

import os
import sys


def main() -> None:
    proto_out = os.fdopen(os.dup(1), "w", buffering=1)
    proto_in = os.fdopen(os.dup(0), "r")
    # User code must not read the protocol: give it an empty stdin.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull)

    from sagepipe._runtime import _fd_capture, run_task

    for line in proto_in:
        if not line.strip():
            continue
        proto_out.write(run_task(line, capture=_fd_capture) + "\n")
        proto_out.flush()


if __name__ == "__main__":
    main()
