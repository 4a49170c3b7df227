"""A function-step worker whose owner closed the protocol pipe leaves quietly: no traceback on
the terminal the two processes share."""

import subprocess
import sys


def test_worker_leaves_quietly_when_its_owner_stops_reading():
    worker = subprocess.Popen(
        [sys.executable, "-m", "sagepipe._worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    worker.stdout.close()  # the owner gave up on the answers
    worker.stdin.write(b'{"kind": "check_fresh"}\n')
    worker.stdin.close()
    stderr = worker.stderr.read().decode()
    assert worker.wait(timeout=120) == 0, stderr
    assert stderr == ""
