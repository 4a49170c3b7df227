"""The SageMaker config file (``config.yaml``) applies as in the SDK: the session's default bucket
and prefix, job and pipeline defaults for what the caller left out, admin and user files merged,
and clear errors for a missing named file or a missing YAML parser.

The expected values below were observed with SDK v2 building the same steps with the same file."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from sagepipe import config as sm_config
from sagepipe.estimator import Estimator
from sagepipe.inputs import TrainingInput
from sagepipe.model import Model
from sagepipe.processing import ProcessingOutput, ScriptProcessor
from sagepipe.session import Session
from sagepipe.transformer import Transformer
from sagepipe.workflow.model_step import ModelStep
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.steps import ProcessingStep, TrainingStep, TransformStep

pytest.importorskip("yaml")

CONFIG = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      Session:
        DefaultS3Bucket: cfg-bucket
        DefaultS3ObjectKeyPrefix: cfg-prefix
  Pipeline:
    RoleArn: arn:aws:iam::111111111111:role/PipelineRole
    Tags:
      - Key: pipe
        Value: cfg
  ProcessingJob:
    RoleArn: arn:aws:iam::111111111111:role/ProcRole
    Environment:
      PROC_ENV: from-config
    NetworkConfig:
      EnableNetworkIsolation: true
      VpcConfig:
        Subnets: [subnet-1]
        SecurityGroupIds: [sg-1]
    ProcessingOutputConfig:
      KmsKeyId: proc-out-kms
    ProcessingResources:
      ClusterConfig:
        VolumeKmsKeyId: proc-vol-kms
    Tags:
      - Key: proc
        Value: cfg
  TrainingJob:
    RoleArn: arn:aws:iam::111111111111:role/TrainRole
    Environment:
      TRAIN_ENV: cfg
    OutputDataConfig:
      KmsKeyId: train-out-kms
    ResourceConfig:
      VolumeKmsKeyId: train-vol-kms
    VpcConfig:
      Subnets: [subnet-2]
      SecurityGroupIds: [sg-2]
    Tags:
      - Key: train
        Value: cfg
  TransformJob:
    Environment:
      TX_ENV: cfg
    TransformOutput:
      KmsKeyId: tx-out-kms
    TransformResources:
      VolumeKmsKeyId: tx-vol-kms
    Tags:
      - Key: tx
        Value: cfg
  Model:
    ExecutionRoleArn: arn:aws:iam::111111111111:role/ModelRole
    EnableNetworkIsolation: true
    VpcConfig:
      Subnets: [subnet-3]
      SecurityGroupIds: [sg-3]
    Tags:
      - Key: model
        Value: cfg
"""

SCRIPT = """
import os
os.makedirs("/opt/ml/processing/o", exist_ok=True)
open("/opt/ml/processing/o/env.txt", "w").write(os.environ["PROC_ENV"])
"""


@pytest.fixture
def user_config(tmp_path, monkeypatch):
    """CONFIG as the user config (and no admin config)."""
    path = tmp_path / "user" / "config.yaml"
    path.parent.mkdir()
    path.write_text(CONFIG)
    monkeypatch.setenv(sm_config.ENV_VARIABLE_USER_CONFIG_OVERRIDE, str(path))
    monkeypatch.setenv(sm_config.ENV_VARIABLE_ADMIN_CONFIG_OVERRIDE, str(tmp_path / "user"))  # a directory
    (tmp_path / "user" / "config.yaml").write_text(CONFIG)
    return path


def _steps(pipeline):
    return {s["Name"]: s["Arguments"] for s in json.loads(pipeline.definition())["Steps"]}


def test_session_takes_bucket_and_prefix_from_the_config(user_config, tmp_path):
    session = PipelineSession(store=tmp_path / "store")
    assert session.default_bucket() == "cfg-bucket"
    assert session.default_bucket_prefix == "cfg-prefix"
    assert session.sagemaker_config["SageMaker"]["Pipeline"]["RoleArn"].endswith("PipelineRole")
    explicit = PipelineSession(store=tmp_path / "store", default_bucket="mine", default_bucket_prefix="p")
    assert (explicit.default_bucket(), explicit.default_bucket_prefix) == ("mine", "p")
    # A config passed in replaces the files.
    given = Session(
        store=tmp_path / "store",
        sagemaker_config={
            "SchemaVersion": "1.0",
            "SageMaker": {"PythonSDK": {"Modules": {"Session": {"DefaultS3Bucket": "given"}}}},
        },
    )
    assert (given.default_bucket(), given.default_bucket_prefix) == ("given", None)


def test_job_and_pipeline_defaults_fill_what_the_caller_left_out(user_config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "script.py").write_text(SCRIPT)
    session = PipelineSession(store=tmp_path / "store")
    processor = ScriptProcessor(
        image_uri="python:3",
        command=["python3"],
        instance_type="ml.m5.large",
        instance_count=1,
        sagemaker_session=session,
    )
    process = ProcessingStep(
        name="P",
        step_args=processor.run(
            code="script.py", outputs=[ProcessingOutput(output_name="o", source="/opt/ml/processing/o")]
        ),
    )
    estimator = Estimator(
        image_uri="img",
        instance_type="ml.m5.large",
        instance_count=1,
        sagemaker_session=session,
        tags=[{"Key": "train", "Value": "mine"}],
    )
    train = TrainingStep(name="T", step_args=estimator.fit(TrainingInput("s3://b/k")))
    pipeline = Pipeline(name="cfgp", steps=[process, train], sagemaker_session=session)
    steps = _steps(pipeline)

    p = steps["P"]
    assert p["RoleArn"] == "arn:aws:iam::111111111111:role/ProcRole"
    assert p["Environment"] == {"PROC_ENV": "from-config"}
    assert p["NetworkConfig"] == {
        "EnableNetworkIsolation": True,
        "VpcConfig": {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
    }
    assert p["ProcessingOutputConfig"]["KmsKeyId"] == "proc-out-kms"
    assert p["ProcessingResources"]["ClusterConfig"] == {
        "VolumeKmsKeyId": "proc-vol-kms",
        "InstanceType": "ml.m5.large",
        "InstanceCount": 1,
        "VolumeSizeInGB": 30,
    }
    assert p["Tags"] == [{"Key": "proc", "Value": "cfg"}]
    output_uri = p["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert output_uri["Std:Join"]["Values"][:4] == ["s3:/", "cfg-bucket", "cfg-prefix", "cfgp"]

    t = steps["T"]
    assert t["RoleArn"] == "arn:aws:iam::111111111111:role/TrainRole"
    assert t["Environment"] == {"TRAIN_ENV": "cfg"}
    assert t["OutputDataConfig"] == {"KmsKeyId": "train-out-kms", "S3OutputPath": "s3://cfg-bucket/cfg-prefix/"}
    assert t["ResourceConfig"]["VolumeKmsKeyId"] == "train-vol-kms"
    assert t["VpcConfig"] == {"Subnets": ["subnet-2"], "SecurityGroupIds": ["sg-2"]}
    assert t["Tags"] == [{"Key": "train", "Value": "mine"}]  # the caller's key wins over the config's

    pipeline.create()
    assert pipeline.describe()["RoleArn"] == "arn:aws:iam::111111111111:role/PipelineRole"

    # The processing job runs with the config's environment and writes under the config's bucket.
    only_process = Pipeline(name="cfg-run", steps=[process], sagemaker_session=session)
    execution = only_process.start()
    execution.wait()
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", execution.list_steps()
    written = list((tmp_path / "store" / "s3" / "cfg-bucket" / "cfg-prefix").rglob("env.txt"))
    assert [w.read_text() for w in written] == ["from-config"]


def test_model_and_transform_defaults(user_config, tmp_path):
    session = PipelineSession(store=tmp_path / "store")
    model = Model(image_uri="img", model_data="s3://b/model.tar.gz", sagemaker_session=session)
    create = ModelStep(name="M", step_args=model.create(instance_type="ml.m5.large"))
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_type="ml.m5.large",
        instance_count=1,
        output_path="s3://b/out",
        sagemaker_session=session,
    )
    transform = TransformStep(name="X", step_args=transformer.transform(data="s3://b/in"))
    steps = _steps(Pipeline(name="cfgp2", steps=[create, transform], sagemaker_session=session))
    m = steps["M-CreateModel"]
    assert m["ExecutionRoleArn"] == "arn:aws:iam::111111111111:role/ModelRole"
    assert m["Tags"] == [{"Key": "model", "Value": "cfg"}]
    assert m["VpcConfig"] == {"Subnets": ["subnet-3"], "SecurityGroupIds": ["sg-3"]}
    assert m["EnableNetworkIsolation"] is True
    x = steps["X"]
    assert x["TransformOutput"] == {"S3OutputPath": "s3://b/out", "KmsKeyId": "tx-out-kms"}
    assert x["TransformResources"] == {
        "InstanceCount": 1,
        "InstanceType": "ml.m5.large",
        "VolumeKmsKeyId": "tx-vol-kms",
    }
    assert x["Environment"] == {"TX_ENV": "cfg"}
    assert x["Tags"] == [{"Key": "tx", "Value": "cfg"}]


def test_admin_and_user_files_merge(tmp_path, monkeypatch):
    admin = tmp_path / "admin.yaml"
    admin.write_text(
        textwrap.dedent(
            """\
            SchemaVersion: '1.0'
            SageMaker:
              PythonSDK: {Modules: {Session: {DefaultS3Bucket: admin-bucket, DefaultS3ObjectKeyPrefix: admin}}}
              Pipeline: {RoleArn: arn:aws:iam::1:role/Admin}
            """
        )
    )
    user = tmp_path / "user.yaml"
    user.write_text(
        "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK: {Modules: {Session: {DefaultS3Bucket: user-bucket}}}\n"
    )
    monkeypatch.setenv(sm_config.ENV_VARIABLE_ADMIN_CONFIG_OVERRIDE, str(admin))
    monkeypatch.setenv(sm_config.ENV_VARIABLE_USER_CONFIG_OVERRIDE, str(user))
    merged = sm_config.load_sagemaker_config()
    session = Session(store=tmp_path / "store")
    assert (session.default_bucket(), session.default_bucket_prefix) == ("user-bucket", "admin")
    assert sm_config.get_config_value("SageMaker.Pipeline.RoleArn", merged) == "arn:aws:iam::1:role/Admin"


def test_default_locations_follow_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv(sm_config.ENV_VARIABLE_ADMIN_CONFIG_OVERRIDE, raising=False)
    monkeypatch.delenv(sm_config.ENV_VARIABLE_USER_CONFIG_OVERRIDE, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home-config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "etc-xdg"))
    if sys.platform not in ("darwin", "win32"):
        assert sm_config.default_config_paths() == [
            str(tmp_path / "etc-xdg" / "sagemaker" / "config.yaml"),
            str(tmp_path / "home-config" / "sagemaker" / "config.yaml"),
        ]
        assert sm_config.load_sagemaker_config() == {}  # no files at the default places: no defaults
        (tmp_path / "home-config" / "sagemaker").mkdir(parents=True)
        (tmp_path / "home-config" / "sagemaker" / "config.yaml").write_text(CONFIG)
        assert Session(store=tmp_path / "store").default_bucket() == "cfg-bucket"


def test_bad_config_files_fail_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv(sm_config.ENV_VARIABLE_USER_CONFIG_OVERRIDE, str(tmp_path / "missing.yaml"))
    with pytest.raises(ValueError, match="missing.yaml"):
        Session(store=tmp_path / "store")
    monkeypatch.setenv(sm_config.ENV_VARIABLE_USER_CONFIG_OVERRIDE, "s3://bucket/config.yaml")
    with pytest.raises(ValueError, match="cannot read config files from S3"):
        Session(store=tmp_path / "store")
    bad = tmp_path / "bad.yaml"
    bad.write_text("SageMaker: {}\n")
    monkeypatch.setenv(sm_config.ENV_VARIABLE_USER_CONFIG_OVERRIDE, str(bad))
    with pytest.raises(ValueError, match="SchemaVersion"):
        Session(store=tmp_path / "store")


def test_missing_pyyaml_names_the_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    code = "import sys; sys.modules['yaml'] = None\nfrom sagepipe.session import Session\nSession()\n"
    env = dict(os.environ, SAGEMAKER_USER_CONFIG_OVERRIDE=str(path), SAGEPIPE_STORE=str(tmp_path / "store"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert f"The SageMaker config file {path} needs PyYAML" in result.stderr
