"""A local selective run whose reference is an execution on SageMaker: the cloud execution is
recorded in the store (definition, parameters, steps, the jobs' describe responses as properties),
the selected steps run here, and what they read of the reused steps' outputs is fetched from S3
once (by ETag). Against moto's server on a loopback address; moto does not list an execution's
steps or know the jobs SageMaker ran, so botocore's Stubber answers those calls, shaped as the
service documents them."""

import datetime
import json
import os
import sys

import moto_lib
import pytest

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")
from botocore.stub import Stubber  # noqa: E402
from sagepipe.exceptions import ReferenceExecutionError  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/Pipelines"
LOCAL_ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
BUCKET = "cloud-reference-bucket"
T0 = datetime.datetime(2026, 12, 6, 12, 0, tzinfo=datetime.timezone.utc)

PIPELINE_MODULE = f"""
import os
from sagepipe.processing import ProcessingInput, ProcessingOutput, ScriptProcessor
from sagepipe.workflow.functions import JsonGet
from sagepipe.workflow.parameters import ParameterInteger
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.properties import PropertyFile
from sagepipe.workflow.steps import ProcessingStep

HERE = os.path.dirname(os.path.abspath(__file__))


def build(session, name):
    rows = ParameterInteger("Rows", default_value=3)
    processor = ScriptProcessor(
        image_uri={IMAGE!r}, command=["python3"], role={LOCAL_ROLE!r}, instance_type="ml.m5.xlarge",
        instance_count=1, sagemaker_session=session,
    )
    report = PropertyFile(name="Report", output_name="report", path="report.json")
    prepare = ProcessingStep(
        name="Prepare",
        step_args=processor.run(
            outputs=[
                ProcessingOutput(output_name="train", source="/opt/ml/processing/train"),
                ProcessingOutput(output_name="report", source="/opt/ml/processing/report"),
            ],
            arguments=["--rows", rows.to_string()],
            code=os.path.join(HERE, "prepare.py"),
        ),
        property_files=[report],
    )
    evaluate = ProcessingStep(
        name="Evaluate",
        step_args=processor.run(
            inputs=[
                ProcessingInput(
                    source=prepare.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri,
                    destination="/opt/ml/processing/train",
                )
            ],
            outputs=[ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation")],
            arguments=["--threshold", JsonGet(step_name="Prepare", property_file=report, json_path="threshold")],
            code=os.path.join(HERE, "evaluate.py"),
        ),
    )
    return Pipeline(name=name, parameters=[rows], steps=[prepare, evaluate], sagemaker_session=session)
"""

PREPARE = """
import json, os, sys
rows = int(sys.argv[sys.argv.index("--rows") + 1])
os.makedirs("/opt/ml/processing/train", exist_ok=True)
os.makedirs("/opt/ml/processing/report", exist_ok=True)
open("/opt/ml/processing/train/train.csv", "w").write("".join(f"{i}\\n" for i in range(rows)))
json.dump({"threshold": 1}, open("/opt/ml/processing/report/report.json", "w"))
"""

EVALUATE = """
import json, os, sys
threshold = sys.argv[sys.argv.index("--threshold") + 1]
lines = open("/opt/ml/processing/train/train.csv").read().splitlines()
os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
json.dump({"rows": len(lines), "first": lines[0], "threshold": threshold},
          open("/opt/ml/processing/evaluation/evaluation.json", "w"))
"""


@pytest.fixture(scope="module")
def aws():
    with moto_lib.moto_aws() as session:
        yield session


@pytest.fixture
def project(tmp_path, session):
    (tmp_path / "prepare.py").write_text(PREPARE)
    (tmp_path / "evaluate.py").write_text(EVALUATE)
    (tmp_path / "cloud_project.py").write_text(PIPELINE_MODULE)
    sys.path.insert(0, str(tmp_path))
    try:
        import cloud_project

        yield tmp_path, cloud_project
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("cloud_project", None)


class CloudRun:
    """An execution on SageMaker (moto's) of the deployed pipeline, with what its steps left:
    Prepare succeeded and wrote its outputs to S3; Evaluate failed."""

    def __init__(self, aws, pipeline, name):
        from sagepipe.deploy import deploy

        self.arn = deploy(pipeline, role_arn=ROLE, bucket=BUCKET, start=True, parameters={"Rows": "5"}).execution_arn
        execution_id = self.arn.rsplit("/", 1)[-1]
        self.prefix = f"s3://{BUCKET}/{name}/{execution_id}/Prepare/output"
        s3 = aws.client("s3")
        self.put = lambda key, body: s3.put_object(
            Bucket=BUCKET, Key=f"{name}/{execution_id}/Prepare/output/{key}", Body=body
        )
        self.put("train/train.csv", "".join(f"cloud-{i}\n" for i in range(5)))
        self.put("report/report.json", json.dumps({"threshold": 7}))
        # Another output's prefix that starts like "train": not a part of it.
        self.put("train-extra/other.csv", "x\n")
        self.job_arn = f"arn:aws:sagemaker:us-east-1:123456789012:processing-job/pipelines-{execution_id}-prepare-abc"
        self.stubber = Stubber(boto3.client("sagemaker", region_name="us-east-1"))

    def expect_import(self, prepare="Succeeded"):
        """The responses the import reads that moto cannot give, in the order it asks."""
        self.stubber.add_response(
            "list_pipeline_execution_steps",
            {
                "PipelineExecutionSteps": [
                    {
                        "StepName": "Evaluate",
                        "StepStatus": "Failed",
                        "StartTime": T0 + datetime.timedelta(minutes=5),
                        "EndTime": T0 + datetime.timedelta(minutes=6),
                        "FailureReason": "ClientError: AlgorithmError: threshold too high",
                        "AttemptCount": 1,
                        "Metadata": {"ProcessingJob": {"Arn": self.job_arn.replace("prepare", "evaluate")}},
                    },
                    {
                        "StepName": "Prepare",
                        "StepStatus": prepare,
                        "StartTime": T0,
                        "EndTime": T0 + datetime.timedelta(minutes=4),
                        "AttemptCount": 1,
                        "Metadata": {"ProcessingJob": {"Arn": self.job_arn}},
                    },
                ]
            },
            {"PipelineExecutionArn": self.arn, "SortOrder": "Ascending"},
        )
        if prepare != "Succeeded":
            return  # the properties of a step that did not succeed are not read
        outputs = [
            {"OutputName": n, "S3Output": {"S3Uri": f"{self.prefix}/{n}", "LocalPath": f"/opt/ml/processing/{n}",
                                           "S3UploadMode": "EndOfJob"}}
            for n in ("train", "report")
        ]  # fmt: skip
        self.stubber.add_response(
            "describe_processing_job",
            {
                "ProcessingJobName": self.job_arn.rsplit("/", 1)[-1],
                "ProcessingJobArn": self.job_arn,
                "ProcessingJobStatus": "Completed",
                "ProcessingResources": {
                    "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
                },
                "AppSpecification": {"ImageUri": IMAGE},
                "ProcessingOutputConfig": {"Outputs": outputs},
                "RoleArn": ROLE,
                "CreationTime": T0,
                "ProcessingEndTime": T0 + datetime.timedelta(minutes=4),
            },
            {"ProcessingJobName": self.job_arn.rsplit("/", 1)[-1]},
        )

    def answer(self, monkeypatch):
        stubbed = {"ListPipelineExecutionSteps", "DescribeProcessingJob"}
        moto_lib.stub_operations(monkeypatch, lambda op: self.stubber if op in stubbed else None)
        self.stubber.activate()


def test_what_counts_as_an_execution_on_sagemaker():
    from sagepipe._cloud import cloud_region

    assert cloud_region("arn:aws:sagemaker:eu-west-1:123456789012:pipeline/p/execution/abc") == "eu-west-1"
    assert cloud_region("arn:aws-us-gov:sagemaker:us-gov-west-1:123456789012:pipeline/p/execution/a") == "us-gov-west-1"
    # Local ones, and ARNs no service would issue (left to the engine to refuse, naming the field).
    for arn in (
        "arn:aws:sagemaker:local:000000000000:pipeline/p/execution/abc",
        "arn:aws:sagemaker:us-east-1:000000000000:pipeline/p/execution/abc",
        "arn:aws:sagemaker:local:0:pipeline/../../x/execution/abc",
        "arn:aws:sagemaker:us-east-1:12345:pipeline/p/execution/abc",
        None,
        "",
    ):
        assert cloud_region(arn) is None, arn


def _selective(arn, steps):
    from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

    return SelectiveExecutionConfig(source_pipeline_execution_arn=arn, selected_steps=steps)


def test_a_failed_cloud_step_runs_here_with_the_cloud_outputs_fetched_once(aws, project, session, monkeypatch):
    root, module = project
    pipeline = module.build(session, "cloud-ref")
    cloud = CloudRun(aws, pipeline, "cloud-ref")
    cloud.expect_import()
    cloud.answer(monkeypatch)
    store = session.store

    # The plan records the cloud execution, and says what a start would download.
    plan = pipeline.plan(_selective(cloud.arn, ["Evaluate"]), parameters={"Rows": 5})
    cloud.stubber.assert_no_pending_responses()  # the import asked for every step and job
    assert plan.actions() == {"Prepare": "reuse", "Evaluate": "run"}
    assert plan["Prepare"]["source_execution_arn"] == cloud.arn
    assert plan["Prepare"]["reads"] == [f"{cloud.prefix}/report/report.json", f"{cloud.prefix}/train"]
    fetch = {f["uri"]: f for f in plan["Prepare"]["fetch"]}
    assert fetch[f"{cloud.prefix}/train"] == {
        "uri": f"{cloud.prefix}/train", "objects": 1, "bytes": 40, "fetch_objects": 1, "fetch_bytes": 40,
    }  # fmt: skip
    assert f"fetches {cloud.prefix}/train (1 object, 40 bytes)" in str(plan)

    # Recorded as SageMaker described it: the reference's parameters are typed by its definition.
    recorded = json.loads(store.load_execution(cloud.arn))
    assert recorded["PipelineExecutionStatus"] == "Succeeded" and recorded["Parameters"] == {"Rows": 5}
    steps = {s["StepName"]: s for s in json.loads(store.load_steps(cloud.arn))}
    assert steps["Evaluate"]["StepStatus"] == "Failed" and "threshold too high" in steps["Evaluate"]["FailureReason"]
    assert steps["Prepare"]["Metadata"] == {"ProcessingJob": {"Arn": cloud.job_arn}}

    execution = pipeline.start(parameters={"Rows": 5}, selective_execution_config=_selective(cloud.arn, ["Evaluate"]))
    execution.wait()
    listed = {s["StepName"]: s for s in execution.list_steps()}
    assert listed["Evaluate"]["StepStatus"] == "Succeeded", listed["Evaluate"].get("FailureReason")
    assert listed["Prepare"]["SelectiveExecutionResult"] == {"SourcePipelineExecutionArn": cloud.arn}
    # Evaluate read the cloud's train data and the cloud's property file (threshold 7).
    from sagepipe.client import client

    job = client(store=session.store_root).describe_processing_job(
        ProcessingJobName=listed["Evaluate"]["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[-1]
    )
    assert job["AppSpecification"]["ContainerArguments"][-2:] == ["--threshold", 7]
    out = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    evaluation = json.loads(open(os.path.join(store.uri_to_path(out), "evaluation.json")).read())
    assert evaluation == {"rows": 5, "first": "cloud-0", "threshold": "7"}
    train = store.uri_to_path(f"{cloud.prefix}/train/train.csv")
    assert not os.path.exists(store.uri_to_path(f"{cloud.prefix}/train-extra/other.csv"))
    fetched_at = os.stat(train).st_mtime_ns

    # Again: nothing to import or fetch (no Stubber response is queued: a call would fail).
    again = pipeline.plan(_selective(cloud.arn, ["Evaluate"]), parameters={"Rows": 5})
    assert [f["fetch_objects"] for f in again["Prepare"]["fetch"]] == [0, 0]
    assert f"reads {cloud.prefix}/train (1 object, 40 bytes; fetched already)" in str(again)
    second = pipeline.start(parameters={"Rows": 5}, selective_execution_config=_selective(cloud.arn, ["Evaluate"]))
    second.wait()
    assert second.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert os.stat(train).st_mtime_ns == fetched_at

    # Changed on S3 (a new ETag): fetched again; a local copy changed by hand is fetched again too.
    cloud.put("train/train.csv", "changed\n")
    changed = pipeline.plan(_selective(cloud.arn, ["Evaluate"]), parameters={"Rows": 5})
    assert {f["uri"]: f["fetch_objects"] for f in changed["Prepare"]["fetch"]}[f"{cloud.prefix}/train"] == 1
    pipeline.start(parameters={"Rows": 5}, selective_execution_config=_selective(cloud.arn, ["Evaluate"])).wait()
    assert open(train).read() == "changed\n"
    with open(store.uri_to_path(f"{cloud.prefix}/report/report.json"), "w") as f:
        f.write('{"threshold": 0}')
    assert [f["fetch_objects"] for f in pipeline.plan(_selective(cloud.arn, ["Evaluate"]))["Prepare"]["fetch"]] == [
        1,
        0,
    ]


def test_the_service_rules_for_a_cloud_reference(aws, project, session, monkeypatch):
    _, module = project
    pipeline = module.build(session, "cloud-rules")
    cloud = CloudRun(aws, pipeline, "cloud-rules")
    cloud.expect_import(prepare="Failed")
    cloud.answer(monkeypatch)

    # Another pipeline's execution: refused before anything is asked of SageMaker.
    other = module.build(session, "cloud-other")
    with pytest.raises(ReferenceExecutionError, match="belongs to pipeline 'cloud-rules', not 'cloud-other'"):
        other.start(selective_execution_config=_selective(cloud.arn, ["Evaluate"]))
    # A step that failed on SageMaker cannot be reused: the engine's rule, as for a local reference.
    with pytest.raises(ReferenceExecutionError, match="depend on 'Prepare', which is Failed"):
        pipeline.start(selective_execution_config=_selective(cloud.arn, ["Evaluate"]))
    cloud.stubber.assert_no_pending_responses()
    assert [e["PipelineExecutionArn"] for e in json.loads(session.store.list_executions("cloud-rules"))] == [cloud.arn]

    # An execution still running on SageMaker is not recorded.
    running = CloudRun(aws, pipeline, "cloud-rules")
    original = boto3.session.Session.client

    def client(self, service, *args, **kwargs):
        made = original(self, service, *args, **kwargs)
        if service == "sagemaker":
            described = made.describe_pipeline_execution
            made.describe_pipeline_execution = lambda **r: dict(described(**r), PipelineExecutionStatus="Executing")
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)
    with pytest.raises(
        ReferenceExecutionError, match="is Executing on SageMaker; it must be Succeeded, Failed or Stopped"
    ):
        pipeline.plan(_selective(running.arn, ["Evaluate"]))
    assert len(json.loads(session.store.list_executions("cloud-rules"))) == 1


def test_the_command_line_plans_and_runs_against_a_cloud_reference(aws, project, session, monkeypatch, capsys):
    from sagepipe import cli, compat

    root, module = project
    pipeline = module.build(session, "cloud-cli")
    cloud = CloudRun(aws, pipeline, "cloud-cli")
    cloud.expect_import()
    cloud.answer(monkeypatch)
    (root / "target.py").write_text(
        "from sagepipe.workflow.pipeline_context import PipelineSession\n"
        "import cloud_project\n"
        "pipeline = cloud_project.build(PipelineSession(), 'cloud-cli')\n"
    )
    common = ["--select", "Evaluate", "--reference", cloud.arn, "--store", str(session.store_root)]
    try:
        assert cli.main(["plan", f"{root / 'target.py'}:pipeline", *common]) == 0
        shown = capsys.readouterr().out
        assert cli.main(["run", f"{root / 'target.py'}:pipeline", *common, "--json"]) == 0
        out = capsys.readouterr().out
        # --resume: what did not succeed on SageMaker (Evaluate) runs here, the rest is reused.
        resume = ["--resume", cloud.arn, "--store", str(session.store_root), "--json"]
        assert cli.main(["run", f"{root / 'target.py'}:pipeline", *resume]) == 0
        resumed = capsys.readouterr().out
    finally:
        compat.uninstall()  # loading TARGET routed this process's AWS calls to the store
    assert f"(reference {cloud.arn})" in shown
    assert f"fetches {cloud.prefix}/train (1 object, 40 bytes)" in shown
    answer = json.loads(out[out.index("{") :])
    assert answer["PipelineExecutionStatus"] == "Succeeded"
    # The run kept the cloud execution's parameter values (Rows=5), as a selective run does.
    assert json.loads(session.store.load_execution(answer["PipelineExecutionArn"]))["Parameters"] == {"Rows": 5}
    resumed = json.loads(resumed[resumed.index("{") :])
    recorded = json.loads(session.store.load_execution(resumed["PipelineExecutionArn"]))
    assert resumed["PipelineExecutionStatus"] == "Succeeded"
    assert recorded["SelectiveExecutionConfig"]["SourcePipelineExecutionArn"] == cloud.arn
    assert [s["StepName"] for s in recorded["SelectiveExecutionConfig"]["SelectedSteps"]] == ["Evaluate"]
