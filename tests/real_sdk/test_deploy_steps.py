"""``sagepipe deploy --sdk real`` of a ``@step`` pipeline (SDK v2 or v3, whichever is installed):
each function goes to SageMaker as the SDK serialized it, where the SDK's job driver reads it.
Against moto's server on a loopback address."""

import hashlib
import json
import os
from importlib.metadata import version

from sdk_lib import SCRIPTS, deploy_real

LINE = version("sagemaker").split(".")[0]
# The line's script and what its PipelineSession is imported from.
SCRIPT, SESSION_MODULE, PIPELINE = {
    "2": ("step_v2", "sagemaker.workflow.pipeline_context", "step-real-sdk"),
    "3": ("step_v3", "sagemaker.core.workflow.pipeline_context", "step-real-sdk-v3"),
}[LINE]

TARGET = f"""
import sys
sys.path.insert(0, {SCRIPTS!r})
import {SCRIPT} as script
from {SESSION_MODULE} import PipelineSession


def build():
    return script.build(PipelineSession())
"""


def _steps(items):
    for item in items:
        yield item
        yield from _steps(item["Arguments"].get("IfSteps", []) + item["Arguments"].get("ElseSteps", []))


def _argument(step, flag):
    arguments = step["Arguments"]["AlgorithmSpecification"]["ContainerArguments"]
    return arguments[arguments.index(flag) + 1]


def test_deploy_puts_the_sdks_step_functions_on_sagemaker_as_the_sdk_serialized_them(tmp_path, moto_env):
    """Each function's serialized payload and arguments go to the target bucket at the keys the
    SDK's job driver reads them from (``--s3_base_uri``/step/``--func_step_s3_dir``), byte for byte
    as the SDK wrote them; its bootstrap scripts (the job driver) and dependencies go as the
    steps' channels; nothing of the local account is left."""
    (tmp_path / "step_target.py").write_text(TARGET)
    answer, clients = deploy_real(tmp_path, f"{tmp_path / 'step_target.py'}:build", moto_env)
    s3 = clients["s3"]
    bucket = "sagemaker-us-east-1-123456789012"
    text = clients["sagemaker"].describe_pipeline(PipelineName=PIPELINE)["PipelineDefinition"]
    assert "000000000000" not in text
    functions = {s["Name"]: s for s in _steps(json.loads(text)["Steps"]) if s["Type"] == "Training"}
    assert set(functions) == {"Prepare", "Train", "Report"}
    store_s3 = tmp_path / "store" / "s3" / "sagemaker-us-east-1-000000000000"
    sent = {u["S3Uri"] for u in answer["Uploads"]}
    for name, step in functions.items():
        assert _argument(step, "--s3_base_uri") == f"s3://{bucket}/{PIPELINE}"
        folder = _argument(step, "--func_step_s3_dir")
        for part in ("function", "arguments"):
            key = f"{PIPELINE}/{name}/{folder}/{part}"
            assert f"s3://{bucket}/{key}/" in sent
            payload = s3.get_object(Bucket=bucket, Key=f"{key}/payload.pkl")["Body"].read()
            metadata = json.loads(s3.get_object(Bucket=bucket, Key=f"{key}/metadata.json")["Body"].read())
            assert payload == (store_s3 / key / "payload.pkl").read_bytes()
            assert metadata["sha256_hash"] == hashlib.sha256(payload).hexdigest()  # what the job driver checks
        channels = {
            c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in step["Arguments"]["InputDataConfig"]
        }
        bootstrap = channels["sagemaker_remote_function_bootstrap"]
        assert bootstrap.startswith(f"s3://{bucket}/{PIPELINE}/sagepipe-deploy/")
        driver = s3.get_object(Bucket=bucket, Key=bootstrap[len(f"s3://{bucket}/") :] + "job_driver.sh")["Body"].read()
        local_driver = store_s3 / PIPELINE / "sagemaker_remote_function_bootstrap" / "job_driver.sh"
        assert driver == local_driver.read_bytes() and os.path.getsize(local_driver) > 0
