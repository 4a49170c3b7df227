"""The function-step worker process (``python -m sagepipe._worker``) on its own."""

import json
import subprocess
import sys


def test_worker_whose_engine_is_gone_exits_quietly():
    """An answer to an engine that is gone (its process ended while a task ran) is dropped: the
    worker exits without a BrokenPipeError traceback on the stderr the user still sees."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "sagepipe._worker"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    worker.stdout.close()  # the engine's end of the answers is gone
    worker.stdin.write(json.dumps({"kind": "check_fresh"}).encode() + b"\n")
    worker.stdin.close()
    stderr = worker.stderr.read().decode()
    assert worker.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
