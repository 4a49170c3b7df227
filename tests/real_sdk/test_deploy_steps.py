"""``sagepipe deploy --sdk real`` of a ``@step`` pipeline (SDK v2 or v3, whichever is installed):
each function goes to SageMaker as the SDK serialized it, where the SDK's job driver reads it.
Against moto's server on a loopback address."""

import hashlib
import json
import os
from importlib.metadata import version

from sagepipe.workflow.utilities import definition_steps
from sdk_lib import SCRIPTS, deploy_real

LINE = version("sagemaker").split(".")[0]
# The line's script and what its PipelineSession is imported from.
SCRIPT, SESSION_MODULE, PIPELINE = {
    "2": ("step_v2", "sagemaker.workflow.pipeline_context", "step-real-sdk"),
    "3": ("step_v3", "sagemaker.core.workflow.pipeline_context", "step-real-sdk-v3"),
}[LINE]

MIRROR_SCRIPT, MIRRORED = "step_v2", "step-real-sdk"  # the mirror has the v2 SDK's shape: it runs this script


def _target(script, session_module):
    """A TARGET module building ``script``'s pipeline with a PipelineSession of ``session_module``."""
    return f"""
import sys
sys.path.insert(0, {SCRIPTS!r})
import {script} as script
from {session_module} import PipelineSession


def build():
    return script.build(PipelineSession())
"""


def _argument(step, flag):
    arguments = step["Arguments"]["AlgorithmSpecification"]["ContainerArguments"]
    return arguments[arguments.index(flag) + 1]


def test_deploy_puts_the_sdks_step_functions_on_sagemaker_as_the_sdk_serialized_them(tmp_path, moto_env):
    """Each function's serialized payload and arguments go to the target bucket at the keys the
    SDK's job driver reads them from (``--s3_base_uri``/step/``--func_step_s3_dir``), byte for byte
    as the SDK wrote them; its bootstrap scripts (the job driver) and dependencies go as the
    steps' channels; nothing of the local account is left."""
    (tmp_path / "step_target.py").write_text(_target(SCRIPT, SESSION_MODULE))
    answer, clients = deploy_real(tmp_path, f"{tmp_path / 'step_target.py'}:build", moto_env)
    s3 = clients["s3"]
    bucket = "sagemaker-us-east-1-123456789012"
    text = clients["sagemaker"].describe_pipeline(PipelineName=PIPELINE)["PipelineDefinition"]
    assert "000000000000" not in text
    functions = {s["Name"]: s for s in definition_steps(json.loads(text)["Steps"]) if s["Type"] == "Training"}
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


def _comparable(definition, pipeline):
    """A deployed definition without what differs between two builds of the same code: the
    pipeline's name (in its S3 places), the build-time folder of each function's payload, the
    temporary name of its requirements file, where its functions were defined (display name,
    description), where the channels' files (job driver, requirements) were uploaded to, and SDK
    v3's key of the build."""
    text = json.dumps(json.loads(definition)).replace(pipeline, "<pipeline>")
    for step in definition_steps(json.loads(definition)["Steps"]):
        if step["Type"] == "Training":
            text = text.replace(_argument(step, "--func_step_s3_dir"), "<build>")
            settings = json.loads(_argument(step, "--dependency_settings"))
            if settings.get("dependency_file"):
                text = text.replace(settings["dependency_file"], "<requirements>")
            for key in ("DisplayName", "Description"):
                if key in step:
                    text = text.replace(json.dumps(step[key])[1:-1], f"<{key}>")
    parsed = json.loads(text)
    if parsed.get("MlflowConfig", 1) is None:
        del parsed["MlflowConfig"]  # SDK v3 writes it empty; the mirror's definition is v2's
    for step in definition_steps(parsed["Steps"]):
        environment = step["Arguments"].get("Environment", {})
        if "REMOTE_FUNCTION_SECRET_KEY" in environment:
            environment["REMOTE_FUNCTION_SECRET_KEY"] = "<the build's key>"  # SDK v3: a key per build
        for channel in step["Arguments"].get("InputDataConfig", []):
            # The job driver and the requirements: uploaded by deploy (content-hash keys) or by the SDK.
            channel["DataSource"]["S3DataSource"]["S3Uri"] = f"<{channel['ChannelName']}>"
    return parsed


def test_step_functions_built_with_sagepipe_deploy_as_the_sdk_builds_the_same_code(tmp_path, moto_env):
    """``sagepipe deploy`` of a pipeline whose @step functions were built with sagepipe's mirror
    (the v2 script, unchanged, on the mirror: --sdk mirror) hands each function to the installed
    SDK: the deployed definition is the one the SDK gives for the same code (the line's own script
    deployed with --sdk real), and the payloads are the SDK's, where its job driver reads them."""
    (tmp_path / "step_target.py").write_text(_target(SCRIPT, SESSION_MODULE))
    (tmp_path / "mirror_target.py").write_text(_target(MIRROR_SCRIPT, "sagemaker.workflow.pipeline_context"))
    _, clients = deploy_real(tmp_path, f"{tmp_path / 'step_target.py'}:build", moto_env)
    by_the_sdk = clients["sagemaker"].describe_pipeline(PipelineName=PIPELINE)["PipelineDefinition"]
    deploy_real(tmp_path, f"{tmp_path / 'mirror_target.py'}:build", moto_env, sdk="mirror")
    mirrored = clients["sagemaker"].describe_pipeline(PipelineName=MIRRORED)["PipelineDefinition"]
    assert "000000000000" not in mirrored
    assert _comparable(mirrored, MIRRORED) == _comparable(by_the_sdk, PIPELINE)

    s3 = clients["s3"]
    bucket = "sagemaker-us-east-1-123456789012"
    for step in definition_steps(json.loads(mirrored)["Steps"]):
        if step["Type"] != "Training":
            continue
        key = f"{MIRRORED}/{step['Name']}/{_argument(step, '--func_step_s3_dir')}/function"
        payload = s3.get_object(Bucket=bucket, Key=f"{key}/payload.pkl")["Body"].read()
        metadata = json.loads(s3.get_object(Bucket=bucket, Key=f"{key}/metadata.json")["Body"].read())
        assert metadata["sha256_hash"] == hashlib.sha256(payload).hexdigest()
        assert metadata["serialization_module"] == "cloudpickle"


def test_what_the_sdk_cannot_be_handed_is_refused_with_the_definitions_other_problems(tmp_path):
    """A @step argument the SDK is not handed here (another step's property: the SDK would need
    that step too) and a parameter the pipeline lacks: one refusal naming both, before any AWS
    call (there is no AWS here)."""
    import pytest
    from sagepipe.deploy import deploy
    from sagepipe.exceptions import ValidationError
    from sagepipe.processing import ProcessingOutput, ScriptProcessor
    from sagepipe.workflow.function_step import step
    from sagepipe.workflow.parameters import ParameterString
    from sagepipe.workflow.pipeline import Pipeline
    from sagepipe.workflow.pipeline_context import PipelineSession
    from sagepipe.workflow.steps import ProcessingStep

    session = PipelineSession(store=tmp_path / "store")
    (tmp_path / "prep.py").write_text("print('prep')\n")
    processor = ScriptProcessor(
        image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        command=["python3"], role="arn:aws:iam::123456789012:role/P", instance_type="ml.m5.xlarge",
        instance_count=1, sagemaker_session=session,
    )  # fmt: skip
    prep = ProcessingStep(
        name="Prep",
        step_args=processor.run(
            code=str(tmp_path / "prep.py"),
            outputs=[ProcessingOutput(output_name="out", source="/opt/ml/processing/out")],
        ),
    )

    @step(name="Use", image_uri="123456789012.dkr.ecr.us-east-1.amazonaws.com/python-311:latest")
    def use(uri):
        return uri

    name = ParameterString("Name", default_value="x")
    used = use(prep.properties.ProcessingOutputConfig.Outputs["out"].S3Output.S3Uri)
    pipeline = Pipeline(name="refused-steps", parameters=[name], steps=[prep, used], sagemaker_session=session)
    with pytest.raises(ValidationError) as refused:
        deploy(pipeline, role_arn="arn:aws:iam::123456789012:role/P", bucket="b", region="us-east-1",
               start=True, parameters={"Nme": "y"})  # fmt: skip
    message = str(refused.value)
    assert refused.value.error_count() == 2, message
    assert "step Use: its arguments[0] is Properties" in message and "did you mean 'Name'?" in message
