"""Every fenced ``bash`` and ``python`` block of README.md runs as written, so the README cannot
drift from the code.

- The two set-up commands (install + demo, install + tests) are not run here: CI runs the test
  command in a fresh virtualenv (``.ci/run``) and ``tests/test_demo.py`` runs the demo. This
  test checks they are the only two, in the shape ``.ci/run`` extracts.
- The ``python`` blocks run in README order in one interpreter and one namespace, as a reader
  running them one after another would (the Selective Execution block continues the 30-second
  example), in a fresh directory whose ``./.sagepipe`` is the store.
- A ``python`` block of pytest tests runs under pytest, against the 30-second example saved as
  the README says.
- The ``bash`` blocks run in README order in one shell (``set -euo pipefail``) in a copy of the
  repository's ``examples/``, with this interpreter's ``sagepipe`` and ``python`` first on PATH.
- The benchmark block takes an hour and the network; its options are checked by the harness
  itself (``--list`` validates them and runs nothing).
"""

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SETUP_COMMANDS = [
    "pip install '.[demo]' && python -m sagepipe.demo",
    "pip install -e '.[test]' && cargo test --workspace && pytest",
]


@dataclass
class Block:
    language: str
    line: int  # README line of the block's first code line
    code: str

    @property
    def is_setup(self) -> bool:
        return self.code.strip() in SETUP_COMMANDS

    @property
    def is_benchmark(self) -> bool:
        return all(line.startswith(("bench/run.sh", "python3 bench/")) for line in self.code.strip().splitlines())

    @property
    def is_pytest_module(self) -> bool:
        return self.language == "python" and re.search(r"^def test_", self.code, re.M) is not None


def readme_blocks() -> List[Block]:
    blocks, current = [], None
    for number, line in enumerate(README.read_text().splitlines(), start=1):
        if current is None:
            m = re.fullmatch(r"```(\w+)", line)
            if m:
                current = Block(m.group(1), number + 1, "")
        elif line == "```":
            blocks.append(current)
            current = None
        else:
            current.code += line + "\n"
    assert current is None, f"README.md: the block opened at line {current.line - 1} is never closed"
    return [b for b in blocks if b.language in ("bash", "python")]


BLOCKS = readme_blocks()


def runnable(language: str) -> List[Block]:
    return [b for b in BLOCKS if b.language == language and not (b.is_setup or b.is_benchmark or b.is_pytest_module)]


def thirty_second_example() -> Block:
    section = README.read_text().split("## A 30-second example", 1)[1]
    return next(b for b in BLOCKS if b.code in section and b.language == "python")


def environment(**extra) -> dict:
    """This interpreter's scripts first on PATH; no store chosen by the caller's environment."""
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    for name in ("SAGEPIPE_STORE", "SAGEPIPE_PROGRESS", "SAGEPIPE_FUNCTION_MODE", "PYTHONPATH"):
        env.pop(name, None)
    env.update(extra)
    return env


def run(args, cwd: Path, timeout: float, **env):
    return subprocess.run(args, cwd=str(cwd), env=environment(**env), capture_output=True, text=True, timeout=timeout)


def report(out) -> str:
    return f"exit {out.returncode}\n--- stdout\n{out.stdout[-20000:]}\n--- stderr\n{out.stderr[-20000:]}"


def local_client(store: Path):
    from sagepipe.client import client
    from sagepipe.workflow.pipeline_context import PipelineSession

    return client(sagemaker_session=PipelineSession(store=store))


def executions(store: Path, pipeline_name: str) -> List[dict]:
    """The pipeline's executions in the store, newest first."""
    pages = local_client(store).get_paginator("list_pipeline_executions").paginate(PipelineName=pipeline_name)
    return [summary for page in pages for summary in page["PipelineExecutionSummaries"]]


def test_the_setup_commands_are_the_two_ci_and_users_run():
    setup = [b.code.strip() for b in BLOCKS if b.is_setup]
    assert setup == SETUP_COMMANDS
    # .ci/run runs the test command it extracts with exactly this sed expression.
    extracted = subprocess.run(
        ["sed", "-n", "/^Run the tests/,/^```$/{/^pip install/p}", str(README)], capture_output=True, text=True
    )
    assert extracted.stdout.strip() == SETUP_COMMANDS[1]
    assert "sed -n '/^Run the tests/,/^```$/{/^pip install/p}' README.md" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.timeout(900)  # the blocks have 600 s
def test_python_blocks_run_in_order_in_one_namespace(tmp_path):
    blocks = runnable("python")
    assert len(blocks) >= 5, [b.line for b in blocks]
    (tmp_path / "blocks.json").write_text(json.dumps([[b.line, b.code] for b in blocks]))
    driver = tmp_path / "run_blocks.py"
    driver.write_text(
        "import json, sys\n"
        "namespace = {'__name__': '__main__'}\n"
        "for line, code in json.load(open(sys.argv[1])):\n"
        "    print(f'--- README.md:{line}', flush=True)\n"
        "    # Padded so that tracebacks name the README's own line numbers.\n"
        "    exec(compile('\\n' * (line - 1) + code, sys.argv[2], 'exec'), namespace)\n"
    )
    work = tmp_path / "work"
    work.mkdir()
    out = run([sys.executable, str(driver), str(tmp_path / "blocks.json"), str(README)], work, timeout=600)
    assert out.returncode == 0, report(out)
    printed = out.stdout
    # What the blocks' comments promise they print.
    assert "\nSucceeded\n" in printed and "{'rmse': 3.0}" in printed and "{'rmse': 2.4}" in printed, report(out)
    assert "PreProcess" in printed and "reuse" in printed  # the plan
    # The store is ./.sagepipe of the directory they ran in: the 30-second run, the selective
    # re-run and the selective run the client block started (the interpreter waits for it at
    # exit), newest first.
    runs = executions(work / ".sagepipe", "demo")
    assert [r["PipelineExecutionStatus"] for r in runs] == ["Succeeded"] * 3, runs
    steps = local_client(work / ".sagepipe").list_pipeline_execution_steps(
        PipelineExecutionArn=runs[0]["PipelineExecutionArn"]
    )["PipelineExecutionSteps"]
    assert {s["StepName"] for s in steps if "SelectiveExecutionResult" in s} == {"PreProcess"}


@pytest.mark.timeout(900)  # the inner pytest has 600 s
def test_pytest_block_runs_against_the_30_second_example(tmp_path):
    """The coverage tests, with the 30-second example saved as the README says: its definition
    (everything before ``pipeline.upsert``) as ``my_project/pipeline.py``, plus a ``build()``."""
    (test_block,) = [b for b in BLOCKS if b.is_pytest_module]
    definition = thirty_second_example().code.split("pipeline.upsert", 1)[0]
    package = tmp_path / "my_project"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "pipeline.py").write_text(definition + "\n\ndef build():\n    return pipeline\n")
    (tmp_path / "test_pipeline_coverage.py").write_text("\n" * (test_block.line - 1) + test_block.code)
    out = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"], tmp_path, timeout=600)
    assert out.returncode == 0, report(out)
    assert re.search(r"\b3 passed\b", out.stdout), report(out)
    assert not (tmp_path / ".sagepipe").exists()  # the plugin gives every test its own store


@pytest.mark.timeout(2100)  # the blocks have 1800 s
def test_bash_blocks_run_in_order_from_the_repository_root(tmp_path):
    blocks = runnable("bash")
    assert len(blocks) >= 2, [b.line for b in blocks]
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    script = "set -euo pipefail\n" + "".join(
        f"echo '--- README.md:{b.line}'\n{b.code}" for b in blocks
    )  # fmt: skip
    # `sagepipe deploy` talks to moto's server on a loopback address, configured as AWS would be.
    server = pytest.importorskip("moto.server").ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
        out = run(["bash", "-c", script], tmp_path, timeout=1800, AWS_ENDPOINT_URL=f"http://{host}:{port}", **aws)
    finally:
        server.stop()
    assert out.returncode == 0, report(out)
    assert "started: arn:aws:sagemaker:us-east-1:123456789012:pipeline/abalone/execution/" not in out.stdout
    assert '"PipelineExecutionArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/abalone/execution/' in out.stdout
    assert (tmp_path / "dag.html").stat().st_size > 0 and (tmp_path / "abalone.json").exists()
    # Newest first: the definition JSON's run, the resumed run, the run Train failed in (a bad
    # MaxDepth), the changed-steps run, the selective run, the -p run and run.py's full run.
    runs = executions(tmp_path / ".sagepipe", "abalone")
    statuses = [r["PipelineExecutionStatus"] for r in runs]
    assert statuses == ["Succeeded", "Succeeded", "Failed"] + ["Succeeded"] * 4, report(out)
    assert not (tmp_path / "examples" / "abalone" / ".sagepipe").exists()


def test_benchmark_block_options_are_the_harness_options():
    (block,) = [b for b in BLOCKS if b.is_benchmark]
    harness = ROOT / "bench" / "peers" / "harness" / "bench.py"
    assert os.access(ROOT / "bench" / "run.sh", os.X_OK)
    for command in block.code.split("\n"):
        command = command.split("#", 1)[0].split()
        if not command:
            continue
        if command[0] == "bench/run.sh":  # passes its arguments on to the harness
            out = run([sys.executable, str(harness), *command[1:], "--list"], ROOT, timeout=120)
            assert out.returncode == 0, report(out)
        else:
            assert command[:2] == ["python3", "bench/peers/harness/bench.py"] and command[2] == "--from-raw", command
            # Re-renders the raw results of earlier runs (none in a fresh checkout).
            out = run([sys.executable, str(harness), "--help"], ROOT, timeout=120)
            assert out.returncode == 0 and "--from-raw" in out.stdout, report(out)
