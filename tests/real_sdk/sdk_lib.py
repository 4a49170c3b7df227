"""What the real-SDK tests share: the scripts and data, running a command as a user would (its
own process, a temp store, no AWS region or credentials), and reading the scripts' output lines."""

import ast
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "scripts")
PACKAGE = os.path.dirname(os.path.abspath(__import__("sagepipe").__file__))
DATA = os.path.join(PACKAGE, "data", "abalone.csv")
CODE = os.path.join(PACKAGE, "demo_code")


def run(store, *command, timeout=900, exit_code=0, **environment):
    """Run ``command`` on the store ``store``; its stdout (after checking its exit code)."""
    # The SDK leaves temporary files behind (requirements files, /tmp/sagemaker): next to the store.
    tmp = f"{store}-tmp"
    os.makedirs(tmp, exist_ok=True)
    env = dict(os.environ, SAGEPIPE_STORE=str(store), SAGEMAKER_SUPPRESS_V2_WARNING="1", TMPDIR=tmp)
    env.pop("AWS_DEFAULT_REGION", None)  # no region, no credentials: none is needed
    env.pop("AWS_PROFILE", None)
    env.update(environment)
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == exit_code, result.stdout[-4000:] + result.stderr[-6000:]
    return result.stdout


def sagepipe_run(store, script, *args, exit_code=0):
    """``sagepipe run --sdk real SCRIPT -- ARGS``."""
    command = (sys.executable, "-m", "sagepipe.cli", "run", "--sdk", "real", "-q", script, "--", *args)
    return run(store, *command, exit_code=exit_code)


def steps_of(out):
    """The scripts' ``STEP {json}`` lines, by step name."""
    return {s["name"]: s for s in (json.loads(line[5:]) for line in out.splitlines() if line.startswith("STEP "))}


def execution_of(out):
    """``(arn, status)`` of the scripts' first ``EXECUTION`` line."""
    line = next(line for line in out.splitlines() if line.startswith("EXECUTION "))
    _, arn, status = line.split()
    return arn, status


def modules_used(path):
    """The top-level packages a script imports, and the string constants it holds."""
    with open(path) as f:
        tree = ast.parse(f.read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}  # fmt: skip
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    return imported, {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}


def deploy_real(store_parent, target, aws, sdk="real"):
    """``sagepipe deploy TARGET --sdk SDK --json`` (store under ``store_parent``) against the AWS
    that ``aws`` (the ``moto_env`` fixture) configures: its answer, and boto3 S3 and SageMaker
    clients of that AWS."""
    import boto3

    role = "arn:aws:iam::123456789012:role/Pipelines"
    out = run(store_parent / "store", sys.executable, "-m", "sagepipe.cli", "deploy", target, "--sdk", sdk,
              "--role", role, "--json", **aws)  # fmt: skip
    # The SDK logs its config lookup on stdout when it is imported: the answer follows.
    answer = json.loads(out[out.index("\n{") + 1 :] if not out.startswith("{") else out)
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    clients = {name: session.client(name, endpoint_url=aws["AWS_ENDPOINT_URL"]) for name in ("s3", "sagemaker")}
    return answer, clients
