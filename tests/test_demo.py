"""The README's main job runs as documented: both runs land in the default store, where the CLI
finds them, and nothing is left in the temporary directory."""

import json
import os
import re
import subprocess
import sys

import pytest

FIRST_RUN_STEPS = ("Preprocess", "Train", "Evaluate", "CheckMse", "Register-RegisterModel", "CreateModel-CreateModel")


def run(args, cwd, env, timeout=300):
    return subprocess.run(args, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def demo_env(tmp_path):
    """A working directory and an environment whose temporary directory is private to the test."""
    work, tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp))
    for name in ("SAGEPIPE_STORE", "SAGEPIPE_PROGRESS"):
        env.pop(name, None)
    return work, tmp, env


def summary_rows(section: str):
    """The step rows of one report section: (name, status, rest)."""
    rows = []
    for line in section.splitlines():
        m = re.match(r"^  (\S+)  +(Succeeded|Failed|Stopped|Executing)(.*)$", line)
        if m:
            rows.append(m.groups())
    return rows


def executions(cwd, env, *store_option):
    out = run([sys.executable, "-m", "sagepipe.cli", "executions", "abalone-demo", *store_option, "--json"], cwd, env)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


@pytest.mark.timeout(900)  # the demo and the listing have 300 s each
def test_demo_records_both_runs_in_the_default_store_and_leaves_no_temporary_files(demo_env):
    work, tmp, env = demo_env
    out = run([sys.executable, "-m", "sagepipe.demo"], work, env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"store: {work / '.sagepipe'}" in out.stdout
    full, rerun = out.stdout.split("selective re-run", 1)
    assert "full run: Succeeded" in full
    rows = {name: (status, rest) for name, status, rest in summary_rows(full)}
    # One column layout for every row, also past long names ("CreateModel-CreateModel" used to run
    # into its status): the statuses start at the same offset, two spaces after the longest name.
    lines = [line for line in full.splitlines() if line.startswith("  ") and "Succeeded" in line]
    assert len(lines) == 7 and "  CreateModel-CreateModel  Succeeded" in full
    assert len({line.index("Succeeded") for line in lines}) == 1, "\n".join(lines)
    for step in FIRST_RUN_STEPS + ("Transform",):
        assert rows[step][0] == "Succeeded", step
        assert re.fullmatch(r" +\d+\.\d\d s", rows[step][1]), (step, rows[step])
    assert "of Train + Evaluate with Eta=0.1, MaxDepth=4: Succeeded" in rerun
    rerun_rows = {name: rest for name, _, rest in summary_rows(rerun.split("\n", 1)[1])}
    # Downstream steps that were not selected are not listed; a reused step shows where it comes
    # from, not the reference run's duration.
    assert sorted(rerun_rows) == ["Evaluate", "Preprocess", "Train"]
    assert re.fullmatch(r"  reused from [a-z0-9]{12}", rerun_rows["Preprocess"]), rerun_rows["Preprocess"]
    assert rerun.count("test MSE:") == 1 and "Popping out" not in out.stdout + out.stderr
    assert "sagepipe executions abalone-demo" in rerun

    # `sagepipe executions` right after (same directory, no options) shows both runs.
    listed = executions(work, env)
    assert [e["PipelineExecutionStatus"] for e in listed] == ["Succeeded", "Succeeded"]
    assert listed[0]["PipelineExecutionArn"] in rerun
    assert sorted(os.listdir(tmp)) == []


def test_demo_command_uses_sagepipe_store(demo_env):
    work, tmp, env = demo_env
    store = work.parent / "elsewhere"
    env = dict(env, SAGEPIPE_STORE=str(store))
    out = run([sys.executable, "-m", "sagepipe.cli", "demo"], work, env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"store: {store}" in out.stdout
    assert not (work / ".sagepipe").exists()
    assert len(executions(work, env)) == 2
    assert sorted(os.listdir(tmp)) == []


@pytest.mark.parametrize(
    "command", [[sys.executable, "-m", "sagepipe.demo"], [sys.executable, "-m", "sagepipe.cli", "demo"]]
)
def test_demo_help_says_where_the_runs_go(command, demo_env):
    work, _, env = demo_env
    out = run([*command, "--help"], work, env)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "$SAGEPIPE_STORE" in text and "./.sagepipe" in text and "--store" in text
    assert "temporary" not in text and "--json" not in text
    assert not (work / ".sagepipe").exists()  # --help runs nothing
