"""Ctrl-C: real SIGINTs sent to real child processes (scripts and the CLI) running slow steps,
then the store read back through the CLI.

The first Ctrl-C stops the executions the process runs (running steps are killed, nothing new
starts), the execution and its steps read ``Stopped``, and the process exits within 5 s with one
line saying what was stopped. In a REPL, Ctrl-C only stops waiting.
"""

import json
import os
import signal
import subprocess
import sys
import time

import cli_lib  # noqa: F401 - importable check of the tests directory on sys.path
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "sigint_lib.py")
EXIT_WITHIN = 5.0  # seconds from the Ctrl-C to the process exit


@pytest.fixture
def env(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    python_path = os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")])
    values = dict(os.environ, SIGINT_WORKDIR=str(workdir), PYTHONPATH=python_path,
                  SAGEPIPE_STORE=str(tmp_path / "store"))  # fmt: skip
    values.pop("SAGEPIPE_PROGRESS", None)
    return values


def start(cmd, env, cwd, stdin=None):
    # A session of its own, so the Ctrl-C goes to this process group as a terminal sends it.
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # fmt: skip


def wait_for_files(proc, workdir, names, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not all(os.path.exists(os.path.join(workdir, n)) for n in names):
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"exited {proc.returncode} before {names} started\nstdout:\n{out}\nstderr:\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{names} did not start in {timeout} s")
        time.sleep(0.05)


def ctrl_c(proc):
    """Send SIGINT as a terminal does; the process's output and how long it took to exit."""
    sent = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"still running 60 s after Ctrl-C\nstdout:\n{out}\nstderr:\n{err}")
    return out, err, time.monotonic() - sent


def cli(env, *args):
    result = subprocess.run([sys.executable, "-m", "sagepipe.cli", *args], env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def the_one_line(err):
    """The Ctrl-C summary: exactly one line, and no traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("sagepipe: Ctrl-C")]
    assert len(lines) == 1, err
    return lines[0]


def assert_stopped(env, workdir, arn=None):
    """The store says the execution and its two slow steps Stopped; After never started."""
    executions = json.loads(cli(env, "executions", "--json"))
    assert len(executions) == 1, executions
    arn = arn or executions[0]["PipelineExecutionArn"]
    assert executions[0]["PipelineExecutionArn"] == arn
    assert executions[0]["PipelineExecutionStatus"] == "Stopped"
    records = json.loads(cli(env, "steps", arn, "--json"))
    steps = {s["StepName"]: s["StepStatus"] for s in records}
    assert steps == {"Slow": "Stopped", "Job": "Stopped"}, steps
    assert not os.path.exists(os.path.join(workdir, "After.started"))
    # The job's process was killed, not left behind.
    with open(os.path.join(workdir, "Job.started")) as f:
        job_pid = int(f.read())
    deadline = time.monotonic() + 30
    while _alive(job_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(job_pid), f"the processing job (pid {job_pid}) still runs"
    return arn, {s["StepName"]: s.get("FailureReason") for s in records}


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is dead, only not yet reaped
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("mode", ["worker", "in_process", "in_process_blocked"])
def test_ctrl_c_stops_a_script(env, tmp_path, mode):
    env["SIGINT_MODE"] = mode
    workdir = env["SIGINT_WORKDIR"]
    proc = start([sys.executable, SCRIPT], env, str(tmp_path))
    wait_for_files(proc, workdir, ["Slow.started", "Job.started"])
    out, err, took = ctrl_c(proc)
    assert took < EXIT_WITHIN, f"took {took:.1f} s to exit\n{err}"
    arn = out.split("STARTED ", 1)[1].split()[0]
    line = the_one_line(err)
    assert arn in line and "Slow" in line and "Job" in line, line
    assert "STATUS" not in out  # the script did not go on after the Ctrl-C
    _, reasons = assert_stopped(env, workdir, arn)
    if mode == "in_process_blocked":
        # Slow cannot be interrupted: the process leaves it behind (exit 130) and the store
        # settles it Stopped once its owner is gone.
        assert proc.returncode == 130, (proc.returncode, err)
        assert "exited before this step ended" in reasons["Slow"], reasons
    else:
        # Python's own exit for an uncaught Ctrl-C; the in-process step was interrupted.
        assert proc.returncode == -signal.SIGINT, (proc.returncode, err)
        assert reasons == {"Slow": "Stopped by request", "Job": "Stopped by request"}, reasons


@pytest.mark.parametrize(
    "target",
    ["sigint_lib:pipeline", "script", "file:pipeline", "definition"],
)
def test_ctrl_c_stops_sagepipe_run(env, tmp_path, target):
    workdir = env["SIGINT_WORKDIR"]
    if target == "script":
        target = SCRIPT
    elif target == "file:pipeline":
        target = f"{SCRIPT}:pipeline"
    elif target == "definition":
        target = str(tmp_path / "sigint.json")
        write = f"import sigint_lib; open({target!r}, 'w').write(sigint_lib.pipeline().definition())"
        subprocess.run([sys.executable, "-c", write], env=env, check=True, capture_output=True, timeout=120)
    proc = start([sys.executable, "-m", "sagepipe.cli", "run", target], env, str(tmp_path))
    wait_for_files(proc, workdir, ["Slow.started", "Job.started"])
    out, err, took = ctrl_c(proc)
    assert took < EXIT_WITHIN, f"took {took:.1f} s to exit\n{err}"
    assert proc.returncode == 130, (proc.returncode, err)
    line = the_one_line(err)
    arn, _ = assert_stopped(env, workdir)
    assert arn in line, line


def test_ctrl_c_stops_in_process_steps_of_sagepipe_run(env, tmp_path):
    workdir = env["SIGINT_WORKDIR"]
    proc = start([sys.executable, "-m", "sagepipe.cli", "run", "sigint_lib:pipeline", "--in-process"], env,
                 str(tmp_path))  # fmt: skip
    wait_for_files(proc, workdir, ["Slow.started", "Job.started"])
    out, err, took = ctrl_c(proc)
    assert took < EXIT_WITHIN and proc.returncode == 130, (took, proc.returncode, err)
    the_one_line(err)
    _, reasons = assert_stopped(env, workdir)
    assert reasons["Slow"] == "Stopped by request", reasons  # interrupted, not left behind


def test_ctrl_c_at_exit_stops_what_a_script_left_running(env, tmp_path):
    """A script that starts without waiting: at exit it says it waits and that Ctrl-C stops."""
    workdir = env["SIGINT_WORKDIR"]
    proc = start([sys.executable, SCRIPT, "--no-wait"], env, str(tmp_path))
    wait_for_files(proc, workdir, ["Slow.started", "Job.started"])
    out, err, took = ctrl_c(proc)
    assert took < EXIT_WITHIN, took
    assert "waiting for 1 unfinished execution(s) to end (Ctrl-C stops them)" in err, err
    the_one_line(err)
    assert_stopped(env, workdir)


def test_ctrl_c_in_a_repl_stops_waiting_only(env, tmp_path):
    workdir = env["SIGINT_WORKDIR"]
    proc = start([sys.executable, "-i", SCRIPT, "--no-wait"], env, str(tmp_path), stdin=subprocess.PIPE)
    wait_for_files(proc, workdir, ["Slow.started", "Job.started"])
    proc.stdin.write("print('WAITING', flush=True); execution.wait()\n")
    proc.stdin.flush()
    assert proc.stdout.readline().startswith("STARTED ")
    assert proc.stdout.readline() == "WAITING\n"
    time.sleep(1.0)  # well into wait()
    os.killpg(proc.pid, signal.SIGINT)
    # The REPL goes on, and so does the execution.
    proc.stdin.write("print('STATUS', execution.describe()['PipelineExecutionStatus'], flush=True)\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "STATUS Executing\n"
    steps = {s["StepName"]: s["StepStatus"] for s in json.loads(cli(env, "steps", "latest", "--json"))}
    assert steps == {"Slow": "Executing", "Job": "Executing"}, steps
    # Leaving the REPL: the exit says it waits for the execution and that Ctrl-C stops it.
    proc.stdin.close()
    proc.stdin = None  # communicate() would flush it
    shown = ""
    while "unfinished execution" not in shown:
        line = proc.stderr.readline()
        assert line, shown
        shown += line
    assert "stopped waiting; execution arn:" in shown, shown
    assert "goes on in the background (execution.stop() stops it)" in shown, shown
    assert "waiting for 1 unfinished execution(s) to end (Ctrl-C stops them)" in shown, shown
    out, err, took = ctrl_c(proc)
    assert took < EXIT_WITHIN, took
    the_one_line(err)
    assert_stopped(env, workdir)


def test_ctrl_c_before_anything_runs_is_one_line(env, tmp_path):
    """Interrupted while the target still imports: nothing to stop, one line, exit 130."""
    marker = tmp_path / "importing"
    (tmp_path / "slow_import.py").write_text(
        f"import time\nopen({str(marker)!r}, 'w').close()\ntime.sleep(120)\npipeline = None\n"
    )
    proc = start([sys.executable, "-m", "sagepipe.cli", "run", "slow_import:pipeline"], env, str(tmp_path))
    wait_for_files(proc, str(tmp_path), ["importing"])
    out, err, took = ctrl_c(proc)
    assert proc.returncode == 130 and took < EXIT_WITHIN, (proc.returncode, took, err)
    assert err.strip() == "sagepipe: interrupted (no execution was running)", err


CAUGHT_SCRIPT = """
import time

import sigint_lib
from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline

first = sigint_lib.pipeline().start()
print("STARTED", first.arn, flush=True)
try:
    first.wait()
except KeyboardInterrupt:
    print("caught", flush=True)


@step(name="Quick")
def quick():
    time.sleep(0.5)
    return 1


second = Pipeline(name="after-ctrl-c", steps=[quick()], sagemaker_session=sigint_lib.session()).start()
print("SECOND", second.arn, flush=True)
"""


def test_an_execution_started_after_a_caught_ctrl_c_is_waited_for_at_exit(env, tmp_path):
    """A script that catches the Ctrl-C and starts another execution without waiting: the exit
    waits for that one to end (it is not stopped as if the Ctrl-C had been meant for it)."""
    script = tmp_path / "caught.py"
    script.write_text(CAUGHT_SCRIPT)
    workdir = env["SIGINT_WORKDIR"]
    proc = start([sys.executable, str(script)], env, str(tmp_path))
    wait_for_files(proc, workdir, ["Slow.started", "Job.started"])
    out, err, _ = ctrl_c(proc)
    assert "caught" in out, (out, err)
    second = out.split("SECOND ", 1)[1].split()[0]
    executions = {e["PipelineExecutionArn"]: e["PipelineExecutionStatus"]
                  for e in json.loads(cli(env, "executions", "--json"))}  # fmt: skip
    assert executions[second] == "Succeeded", (executions, err)
    first = out.split("STARTED ", 1)[1].split()[0]
    assert executions[first] == "Stopped", executions


LOST_INTERRUPT_SCRIPT = """
import os
import signal
import sys

import sigint_lib

WORKDIR = os.environ["SIGINT_WORKDIR"]


class InterruptsInDel:
    # Python ignores an exception raised in __del__ (it prints "Exception ignored"), so the
    # KeyboardInterrupt of a Ctrl-C that arrives here never reaches the script.
    def __del__(self):
        signal.raise_signal(signal.SIGINT)


class Stderr:
    # The progress view flushes stderr on every tick of wait(): once both slow steps run, the
    # Ctrl-C arrives there, inside a __del__.
    def __init__(self, real):
        self.real, self.sent = real, False

    def write(self, text):
        return self.real.write(text)

    def isatty(self):
        return False

    def flush(self):
        started = all(os.path.exists(os.path.join(WORKDIR, n)) for n in ("Slow.started", "Job.started"))
        if started and not self.sent:
            self.sent = True
            InterruptsInDel()
        self.real.flush()


execution = sigint_lib.pipeline().start()
print("STARTED", execution.arn, flush=True)
sys.stderr = Stderr(sys.stderr)
execution.wait(progress=True)
print("STATUS", execution.describe()["PipelineExecutionStatus"], flush=True)
"""


@pytest.mark.parametrize("mode", ["worker", "in_process_blocked"])
def test_a_ctrl_c_whose_interrupt_python_lost_still_ends_the_wait(env, tmp_path, mode):
    """Regression: the KeyboardInterrupt raised by the Ctrl-C handler was lost when the handler ran
    inside a callback whose exceptions Python ignores (it happened in CI inside importlib's
    module-lock weakref callback); wait() went on, for ever when a step was blocked in C."""
    env["SIGINT_MODE"] = mode
    script = tmp_path / "lost.py"
    script.write_text(LOST_INTERRUPT_SCRIPT)
    proc = start([sys.executable, str(script)], env, str(tmp_path))
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"still waiting 60 s after the lost Ctrl-C\nstdout:\n{out}\nstderr:\n{err}")
    assert "Exception ignored" in err and "KeyboardInterrupt" in err, err  # the interrupt was lost
    assert "STATUS" not in out, out  # and yet the script did not go on after wait()
    assert len([line for line in err.splitlines() if line.startswith("sagepipe: Ctrl-C stopped")]) == 1, err
    assert_stopped(env, env["SIGINT_WORKDIR"])
