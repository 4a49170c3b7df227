"""`sagepipe deploy`: a pipeline iterated locally, put on SageMaker. Against moto's server on a
loopback address (S3, STS and the pipeline APIs moto implements), through real boto3 clients and
the real command in a subprocess; credentials, region and endpoint come from the environment, as
they would for a user."""

import datetime
import json
import os
import subprocess
import sys
import time

import moto_lib
import pytest

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

from sagepipe.exceptions import ValidationError  # noqa: E402
from sagepipe.session import DEFAULT_BUCKET  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/Pipelines"
LOCAL_ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
BUCKET = "deploy-tests-bucket"


@pytest.fixture(scope="module")
def aws():
    with moto_lib.moto_aws() as session:
        yield session


PIPELINE_MODULE = f"""
import os
from sagepipe.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagepipe.workflow.parameters import ParameterString
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.steps import ProcessingStep

HERE = os.path.dirname(os.path.abspath(__file__))


def build(session, name, folder_uri, image={IMAGE!r}):
    data = ParameterString("InputData", default_value="file://" + os.path.join(HERE, "data.csv"))
    processor = ScriptProcessor(
        image_uri=image, command=["python3"], role={LOCAL_ROLE!r}, instance_type="ml.m5.xlarge",
        instance_count=1, sagemaker_session=session,
    )
    step = ProcessingStep(
        name="Prepare",
        step_args=processor.run(
            inputs=[
                ProcessingInput(source=data, destination="/opt/ml/processing/input"),
                ProcessingInput(source=folder_uri, destination="/opt/ml/processing/extra"),
            ],
            outputs=[
                ProcessingOutput(output_name="train", source="/opt/ml/processing/train"),
                ProcessingOutput(
                    output_name="report", source="/opt/ml/processing/report",
                    destination="s3://{DEFAULT_BUCKET}/reports",
                ),
            ],
            code=os.path.join(HERE, "prepare.py"),
        ),
    )
    return Pipeline(name=name, parameters=[data], steps=[step], sagemaker_session=session)
"""


@pytest.fixture
def project(tmp_path, session):
    """A user's project: a pipeline module, its script, a data file, and a folder put in the
    store's S3 (``session.upload_data``)."""
    (tmp_path / "prepare.py").write_text("print('prepare')\n")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    (tmp_path / "deploy_project.py").write_text(PIPELINE_MODULE)
    folder = tmp_path / "extra"
    (folder / "sub").mkdir(parents=True)
    (folder / "one.txt").write_text("one")
    (folder / "sub" / "two.txt").write_text("two")
    folder_uri = session.upload_data(str(folder), bucket=DEFAULT_BUCKET, key_prefix="datasets/extra")
    sys.path.insert(0, str(tmp_path))
    try:
        import deploy_project

        yield tmp_path, deploy_project, folder_uri
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("deploy_project", None)


def _back(value, uploads, bucket):
    """A deployed definition with what deploy rewrote put back as it was locally."""
    if isinstance(value, dict):
        return {k: _back(v, uploads, bucket) for k, v in value.items()}
    if isinstance(value, list):
        return [_back(v, uploads, bucket) for v in value]
    if isinstance(value, str):
        if value in uploads:
            return uploads[value]
        if value == ROLE:
            return LOCAL_ROLE
        if value == bucket:
            return DEFAULT_BUCKET
        if value.startswith(f"s3://{bucket}/"):
            return f"s3://{DEFAULT_BUCKET}/" + value[len(f"s3://{bucket}/") :]
    return value


def _object(aws, uri):
    bucket, key = uri[len("s3://") :].split("/", 1)
    return aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def test_deploy_uploads_local_inputs_under_content_hash_keys_and_changes_nothing_else(aws, project, session):
    from sagepipe.deploy import deploy

    root, module, folder_uri = project
    pipeline = module.build(session, "deploy-basic", folder_uri)
    local = json.loads(pipeline.definition())

    first = deploy(pipeline, role_arn=ROLE, bucket=BUCKET)
    assert first.created and first.pipeline_arn.endswith(":pipeline/deploy-basic")
    by_local = {u.local: u for u in first.uploads}
    assert set(by_local) == {
        f"file://{root / 'data.csv'}",
        folder_uri,
        next(u for u in by_local if u.endswith("/prepare.py")),
    }
    assert all(u.sent and u.uri.startswith(f"s3://{BUCKET}/deploy-basic/sagepipe-deploy/") for u in first.uploads)
    # The bytes are the local ones; a folder keeps its layout under its content-hash prefix.
    assert _object(aws, by_local[f"file://{root / 'data.csv'}"].uri) == b"a,b\n1,2\n"
    folder = by_local[folder_uri].uri
    assert folder.endswith("/") and _object(aws, folder + "sub/two.txt") == b"two"
    code = next(u for k, u in by_local.items() if k.endswith("/prepare.py"))
    assert _object(aws, code.uri) == b"print('prepare')\n"

    sagemaker = aws.client("sagemaker")
    described = sagemaker.describe_pipeline(PipelineName="deploy-basic")
    assert described["RoleArn"] == ROLE
    deployed = json.loads(described["PipelineDefinition"])
    assert deployed["Parameters"][0]["DefaultValue"] == by_local[f"file://{root / 'data.csv'}"].uri
    text = json.dumps(deployed)
    assert DEFAULT_BUCKET not in text and "file://" not in text and "000000000000" not in text
    # Nothing but the uploaded inputs, the default bucket and the local role changed.
    assert _back(deployed, {u.uri: u.local for u in first.uploads}, BUCKET) == local

    # Deployed again unchanged: the same keys, nothing sent, the pipeline updated.
    again = deploy(module.build(session, "deploy-basic", folder_uri), role_arn=ROLE, bucket=BUCKET)
    assert not again.created and again.pipeline_arn == first.pipeline_arn
    assert [(u.uri, u.sent) for u in again.uploads] == [(u.uri, False) for u in first.uploads]

    # Changed code: its key alone changes.
    (root / "prepare.py").write_text("print('prepare, changed')\n")
    changed = deploy(module.build(session, "deploy-basic", folder_uri), role_arn=ROLE, bucket=BUCKET)
    moved = {u.uri for u in changed.uploads} - {u.uri for u in first.uploads}
    assert len(moved) == 1 and next(iter(moved)).endswith("/prepare.py")
    assert _object(aws, next(iter(moved))) == b"print('prepare, changed')\n"


def test_the_command_deploys_and_starts_with_parameters_and_parallelism(aws, project, tmp_path):
    root, _, folder_uri = project
    (root / "target.py").write_text(
        "from sagepipe.workflow.pipeline_context import PipelineSession\n"
        "import deploy_project\n"
        f"pipeline = deploy_project.build(PipelineSession(), 'deploy-cli', {folder_uri!r})\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", "sagepipe.cli", "deploy", f"{root / 'target.py'}:pipeline"]
    common = ["--store", str(tmp_path / "store"), "--role", ROLE, "--bucket", BUCKET]
    out = subprocess.run(
        [*command, *common, "--start", "-p", "InputData=s3://real-data/abalone.csv", "--max-parallel", "2", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    arn = answer["PipelineExecutionArn"]
    assert arn.startswith("arn:aws:sagemaker:us-east-1:123456789012:pipeline/deploy-cli/execution/")
    assert answer["Created"] and len(answer["Uploads"]) == 3

    sagemaker = aws.client("sagemaker")
    execution = sagemaker.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert execution["ParallelismConfiguration"] == {"MaxParallelExecutionSteps": 2}
    parameters = sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)["PipelineParameters"]
    assert parameters == [{"Name": "InputData", "Value": "s3://real-data/abalone.csv"}]

    # A parameter the pipeline does not have is refused before anything is called.
    wrong = subprocess.run(
        [*command, *common, "--start", "-p", "InputDta=x"], capture_output=True, text=True, env=env, timeout=120
    )
    assert wrong.returncode == 2
    assert "parameter 'InputDta' is not one of the pipeline's; did you mean 'InputData'?" in wrong.stderr
    # A selective run on SageMaker reuses an execution on SageMaker, not a local one.
    local = "arn:aws:sagemaker:local:000000000000:pipeline/deploy-cli/execution/abc123def456"
    wrong = subprocess.run(
        [*command, *common, "--start", "--select", "Prepare", "--reference", local],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert wrong.returncode == 2 and "a local execution cannot be the reference of a run on SageMaker" in wrong.stderr


def test_a_selective_start_names_the_cloud_reference(aws, project, session):
    from sagepipe.deploy import deploy

    _, module, folder_uri = project
    pipeline = module.build(session, "deploy-selective", folder_uri)
    reference = deploy(pipeline, role_arn=ROLE, bucket=BUCKET, start=True).execution_arn
    sent = []
    watched = boto3.session.Session()
    watched.events.register(
        "provide-client-params.sagemaker.StartPipelineExecution", lambda params, **_: sent.append(dict(params))
    )
    config = {"SourcePipelineExecutionArn": reference, "SelectedSteps": [{"StepName": "Prepare"}]}
    done = deploy(
        pipeline, role_arn=ROLE, bucket=BUCKET, start=True, selective_execution_config=config, boto_session=watched
    )
    assert done.execution_arn != reference
    assert sent == [{"PipelineName": "deploy-selective", "SelectiveExecutionConfig": config}]


def test_what_cannot_run_on_sagemaker_is_refused_before_anything_is_sent(aws, project, session):
    from sagepipe import compat
    from sagepipe.deploy import deploy
    from sagepipe.workflow.function_step import step
    from sagepipe.workflow.pipeline import Pipeline

    root, module, folder_uri = project
    # A definition (as `sagepipe deploy file.json` takes one) with a local image, a file://
    # output and a step type only a local runner knows.
    definition = json.loads(module.build(session, "x", folder_uri, image="my-image:latest").definition())
    outputs = definition["Steps"][0]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    outputs[1]["S3Output"]["S3Uri"] = f"file://{root}/out"
    definition["Steps"].append({"Name": "Notify", "Type": "MyNotifier", "Arguments": {}})
    pipeline = Pipeline.from_definition(json.dumps(definition), "deploy-refused", session)
    with pytest.raises(ValidationError) as refused:
        deploy(pipeline, role_arn=ROLE, bucket="deploy-refused-bucket")
    message = str(refused.value)
    assert refused.value.error_count() == 3, message
    assert "step Prepare, Arguments.AppSpecification.ImageUri: image 'my-image:latest' exists only on this" in message
    assert f"file://{root}/out is a place on this machine; a SageMaker job cannot write there" in message
    assert "step Notify: type 'MyNotifier' is not a SageMaker step type" in message
    assert {tuple(p["loc"][:2]) for p in refused.value.errors()} == {("Steps", "Prepare"), ("Steps", "Notify")}

    # A @step function: its payload is in sagepipe's format, so deploying it takes the SageMaker
    # SDK (tests/real_sdk/test_deploy_steps.py), which this environment does not have; from a bare
    # definition there is no function to hand to the SDK.
    @step(name="Train", role=LOCAL_ROLE)
    def train():
        return 1

    with_function = Pipeline(name="deploy-refused", steps=[train()], sagemaker_session=session)
    if not compat.real_sdk_installed():
        with pytest.raises(ImportError, match="takes the SageMaker SDK, which serializes them"):
            deploy(with_function, role_arn=ROLE)
    bare = Pipeline.from_definition(with_function.definition(), "deploy-refused", session)
    with pytest.raises(ValidationError) as refused:
        deploy(bare, role_arn=ROLE)
    assert refused.value.error_count() == 1 and "step Train is a @step function" in str(refused.value)
    assert "deploy the pipeline object" in str(refused.value)

    # Nothing was uploaded or created.
    with pytest.raises(aws.client("sagemaker").exceptions.ClientError):
        aws.client("sagemaker").describe_pipeline(PipelineName="deploy-refused")
    buckets = [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]]
    assert "deploy-refused-bucket" not in buckets and "sagemaker-us-east-1-123456789012" not in buckets


def test_local_routing_is_back_after_a_deploy(aws, project, session):
    """A process that answers AWS locally (sagepipe.install) still does after deploying."""
    from sagepipe import compat
    from sagepipe.deploy import deploy

    _, module, folder_uri = project
    compat.install(sdk="mirror")
    try:
        deploy(module.build(session, "deploy-routed", folder_uri), role_arn=ROLE, bucket=BUCKET)
        assert compat.installed()
        local = boto3.client("sts").get_caller_identity()["Account"]
        assert local == "000000000000"
    finally:
        compat.uninstall()
    assert aws.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_no_region_is_a_clear_error(aws, project, session, monkeypatch):
    from sagepipe.deploy import deploy

    _, module, folder_uri = project
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    with pytest.raises(ValueError, match="no AWS region: pass one"):
        deploy(module.build(session, "deploy-no-region", folder_uri), role_arn=ROLE, bucket=BUCKET)


def test_cloud_executions_read_back_in_the_shapes_of_local_ones(aws, project, session, monkeypatch, capsys):
    from botocore.stub import Stubber
    from sagepipe import cli
    from sagepipe.deploy import deploy

    _, module, folder_uri = project
    arn = deploy(
        module.build(session, "deploy-views", folder_uri),
        role_arn=ROLE,
        bucket=BUCKET,
        start=True,
        parameters={"InputData": "s3://real-data/x.csv"},
    ).execution_arn

    def views(*argv):
        assert cli.main([*argv, "--store", str(session.store_root), "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    listed = views("executions", "deploy-views", "--cloud")
    assert [(e["PipelineName"], e["PipelineExecutionArn"]) for e in listed] == [("deploy-views", arn)]
    assert views("params", arn) == [{"Name": "InputData", "Value": "s3://real-data/x.csv"}]

    # moto does not list an execution's steps: botocore's Stubber answers as the service documents.
    started = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=datetime.timezone.utc)
    job = "pipelines-abc-prepare-x1"
    listing = {
        "PipelineExecutionSteps": [
            {
                "StepName": "Prepare",
                "StepStatus": "Succeeded",
                "StartTime": started,
                "EndTime": started + datetime.timedelta(minutes=3),
                "AttemptCount": 1,
                "Metadata": {
                    "ProcessingJob": {"Arn": f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/{job}"}
                },
            }
        ]
    }
    stubber = Stubber(boto3.client("sagemaker", region_name="us-east-1"))
    for _ in range(4):  # two views, then two log commands (--follow is refused before any call)
        stubber.add_response(
            "list_pipeline_execution_steps", listing, {"PipelineExecutionArn": arn, "SortOrder": "Ascending"}
        )
    moto_lib.stub_operations(monkeypatch, lambda op: stubber if op == "ListPipelineExecutionSteps" else None)
    stubber.activate()
    (step,) = views("steps", arn)
    assert step["StepName"] == "Prepare" and step["Metadata"]["ProcessingJob"]["Arn"].endswith(f":processing-job/{job}")
    assert cli.main(["steps", arn, "--store", str(session.store_root)]) == 0
    table = capsys.readouterr().out
    assert "Prepare" in table and "Succeeded" in table and "180.00 s" in table

    # A step's log is its job's in CloudWatch Logs (moto's): every stream of the job, in order.
    logs = aws.client("logs")
    group = "/aws/sagemaker/ProcessingJobs"
    logs.create_log_group(logGroupName=group)
    for stream, lines in (
        (f"{job}/algo-1-1", ["loading", "done"]),
        (f"{job}/algo-2-1", ["worker"]),
        ("other/algo-1-1", ["x"]),
    ):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        events = [{"timestamp": int(time.time() * 1000) + i, "message": line} for i, line in enumerate(lines)]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    assert cli.main(["logs", arn, "Prepare", "--store", str(session.store_root)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"[{job}/algo-1-1]",
        "loading",
        "done",
        f"[{job}/algo-2-1]",
        "worker",
    ]
    assert cli.main(["logs", arn, "Prepar", "--store", str(session.store_root)]) != 0
    assert "has no step 'Prepar' (did you mean 'Prepare'?)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:
        cli.main(["logs", arn, "Prepare", "-f", "--store", str(session.store_root)])
    assert refused.value.code == 2 and "--follow applies to executions here" in capsys.readouterr().err
    stubber.assert_no_pending_responses()


def test_every_step_function_of_a_pipeline_is_found_to_hand_to_the_sdk(session):
    """Functions reached only through a ConditionStep's conditions (nested in ConditionNot), another
    function's arguments, or the steps list: each is found once, for the SDK to build."""
    from sagepipe._sdk_steps import mirror_function_steps
    from sagepipe.workflow.condition_step import ConditionStep
    from sagepipe.workflow.conditions import ConditionEquals, ConditionGreaterThan, ConditionNot
    from sagepipe.workflow.fail_step import FailStep
    from sagepipe.workflow.function_step import step
    from sagepipe.workflow.pipeline import Pipeline

    @step(name="A")
    def a():
        return 1

    @step(name="B")
    def b(x):
        return x

    @step(name="C")
    def c():
        return 2

    @step(name="D")
    def d():
        return 3

    first = a()
    check = ConditionStep(
        name="Check",
        conditions=[
            ConditionNot(expression=ConditionEquals(left=c(), right=1)),
            ConditionGreaterThan(left=b(first), right=0),
        ],
        if_steps=[FailStep(name="Stop", error_message="x")],
    )
    pipeline = Pipeline(name="found", steps=[check, d(), first], sagemaker_session=session)
    assert sorted(s.name for s in mirror_function_steps(pipeline)) == ["A", "B", "C", "D"]
