"""``sagepipe run TARGET`` (a pipeline object, a definition or a stored pipeline's name): the jobs
it starts read and write the store's S3 through boto3, as under ``sagepipe run script.py``."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("boto3")

PIPELINE = textwrap.dedent(
    """
    from sagepipe.workflow.function_step import step
    from sagepipe.workflow.pipeline import Pipeline

    @step(name="Copy")
    def copy():
        import boto3
        s3 = boto3.client("s3")
        text = s3.get_object(Bucket="data", Key="in.txt")["Body"].read().decode()
        s3.put_object(Bucket="data", Key="out.txt", Body=text.upper().encode())
        return text

    pipeline = Pipeline(name="cli-routing", steps=[copy()])
    """
)


def test_a_run_from_the_command_line_routes_its_jobs_to_the_store(tmp_path):
    (tmp_path / "pipe.py").write_text(PIPELINE)
    store = tmp_path / "store"
    (store / "s3" / "data").mkdir(parents=True)
    (store / "s3" / "data" / "in.txt").write_text("in the store")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEPIPE_"))}
    env.update(SAGEPIPE_STORE=str(store), AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    for target in ("pipe.py:pipeline", "cli-routing"):  # the object, then the stored pipeline by name
        done = subprocess.run(
            [sys.executable, "-m", "sagepipe.cli", "run", target, "--json"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["PipelineExecutionStatus"] == "Succeeded", done.stdout
        assert (store / "s3" / "data" / "out.txt").read_text() == "IN THE STORE"
        (store / "s3" / "data" / "out.txt").unlink()


def test_the_routing_ends_with_the_run(tmp_path, monkeypatch, capsys):
    """In the command's own process (as a test calls it), routing is undone when the run ends."""
    from sagepipe import _service, cli

    for name in [n for n in os.environ if n.startswith("AWS_") or n.startswith("SAGEPIPE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    store = tmp_path / "store"
    condition = {"Type": "Equals", "LeftValue": 1, "RightValue": 1}
    check = {
        "Name": "Check",
        "Type": "Condition",
        "Arguments": {"Conditions": [condition], "IfSteps": [], "ElseSteps": []},
    }
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": [check]}
    (store / "s3" / "data").mkdir(parents=True)
    (tmp_path / "p.json").write_text(json.dumps(definition))
    assert cli.main(["run", str(tmp_path / "p.json"), "--name", "empty", "--store", str(store), "--json"]) == 0
    assert _service.routed_services() == () and "SAGEPIPE_ROUTE_AWS" not in os.environ, capsys.readouterr()
