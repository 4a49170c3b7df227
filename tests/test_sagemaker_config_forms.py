"""The SageMaker config file's job defaults reach every step form, as in the SDK.

The SDK applies a job's defaults when the Processor, Estimator, Transformer or Model is made, so
``ProcessingStep(processor=)``, ``TrainingStep(estimator=)``, ``TransformStep(transformer=)``,
``TuningStep(tuner=)`` and their ``step_args`` forms all carry them; only the config's tags are
added when a request is built, which the older forms (they skip that call) do not get, except
tuning, whose request builder adds them. The expected definitions were observed with SDK v2
building the same steps with the same file."""

import copy
import json

import pytest
from sagepipe import config as sm_config
from sagepipe.estimator import Estimator
from sagepipe.inputs import TransformInput
from sagepipe.model import Model
from sagepipe.network import NetworkConfig
from sagepipe.parameter import ContinuousParameter
from sagepipe.pipeline import PipelineModel
from sagepipe.processing import ProcessingOutput, Processor, ScriptProcessor
from sagepipe.transformer import Transformer
from sagepipe.tuner import HyperparameterTuner
from sagepipe.workflow.model_step import ModelStep
from sagepipe.workflow.parameters import ParameterString
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.steps import ProcessingStep, TrainingStep, TransformStep, TuningStep

pytest.importorskip("yaml")

CONFIG = """\
SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      Session:
        DefaultS3Bucket: cfg-bucket
        DefaultS3ObjectKeyPrefix: cfg-prefix
  ProcessingJob:
    RoleArn: arn:aws:iam::111111111111:role/ProcRole
    Environment: {PROC_ENV: from-config}
    NetworkConfig:
      EnableNetworkIsolation: true
      EnableInterContainerTrafficEncryption: true
      VpcConfig: {SecurityGroupIds: [sg-1], Subnets: [subnet-1]}
    ProcessingOutputConfig: {KmsKeyId: proc-out-kms}
    ProcessingResources: {ClusterConfig: {VolumeKmsKeyId: proc-vol-kms}}
    Tags: [{Key: proc, Value: cfg}]
  TrainingJob:
    RoleArn: arn:aws:iam::111111111111:role/TrainRole
    EnableNetworkIsolation: true
    EnableInterContainerTrafficEncryption: true
    Environment: {TRAIN_ENV: cfg}
    VpcConfig: {SecurityGroupIds: [sg-2], Subnets: [subnet-2]}
    OutputDataConfig: {KmsKeyId: train-out-kms}
    ResourceConfig: {VolumeKmsKeyId: train-vol-kms}
    Tags: [{Key: train, Value: cfg}]
  TransformJob:
    Environment: {TX_ENV: cfg}
    TransformOutput: {KmsKeyId: tx-out-kms}
    TransformResources: {VolumeKmsKeyId: tx-vol-kms}
    Tags: [{Key: tx, Value: cfg}]
  Model:
    ExecutionRoleArn: arn:aws:iam::111111111111:role/ModelRole
    EnableNetworkIsolation: true
    VpcConfig: {SecurityGroupIds: [sg-3], Subnets: [subnet-3]}
    Tags: [{Key: model, Value: cfg}]
"""

IMAGE = "python:3"
TRAIN_INPUT = {
    "ChannelName": "training",
    "DataSource": {
        "S3DataSource": {"S3DataDistributionType": "FullyReplicated", "S3DataType": "S3Prefix", "S3Uri": "s3://b/x"}
    },
}

# The definitions SDK v2 gives the older forms (processor=, estimator=, transformer=, tuner=).
EXPECTED_LEGACY = {
    "P": {
        "AppSpecification": {
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/p.py"],
            "ImageUri": IMAGE,
        },
        "Environment": {"PROC_ENV": "from-config"},
        "NetworkConfig": {
            "EnableInterContainerTrafficEncryption": True,
            "EnableNetworkIsolation": True,
            "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]},
        },
        "ProcessingInputs": [
            {
                "AppManaged": False,
                "InputName": "code",
                "S3Input": {
                    "LocalPath": "/opt/ml/processing/input/code",
                    "S3CompressionType": "None",
                    "S3DataDistributionType": "FullyReplicated",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3Uri": "s3://b/code/p.py",
                },
            }
        ],
        "ProcessingOutputConfig": {
            "KmsKeyId": "proc-out-kms",
            "Outputs": [
                {
                    "AppManaged": False,
                    "OutputName": "o",
                    "S3Output": {
                        "LocalPath": "/opt/ml/processing/o",
                        "S3UploadMode": "EndOfJob",
                        "S3Uri": {
                            "Std:Join": {
                                "On": "/",
                                "Values": [
                                    "s3:/",
                                    "cfg-bucket",
                                    "cfg-prefix",
                                    "pp",
                                    {"Get": "Execution.PipelineExecutionId"},
                                    "P",
                                    "output",
                                    "o",
                                ],
                            }
                        },
                    },
                }
            ],
        },
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "VolumeKmsKeyId": "proc-vol-kms",
                "VolumeSizeInGB": 30,
            }
        },
        "RoleArn": "arn:aws:iam::111111111111:role/ProcRole",
    },
    "T": {
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        "DebugHookConfig": {"CollectionConfigurations": [], "S3OutputPath": "s3://b/out"},
        "EnableInterContainerTrafficEncryption": True,
        "EnableNetworkIsolation": True,
        "Environment": {"TRAIN_ENV": "cfg"},
        "InputDataConfig": [TRAIN_INPUT],
        "OutputDataConfig": {"KmsKeyId": "train-out-kms", "S3OutputPath": "s3://b/out"},
        "ProfilerConfig": {"DisableProfiler": False, "S3OutputPath": "s3://b/out"},
        "ResourceConfig": {
            "InstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "VolumeKmsKeyId": "train-vol-kms",
            "VolumeSizeInGB": 30,
        },
        "RoleArn": "arn:aws:iam::111111111111:role/TrainRole",
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "VpcConfig": {"SecurityGroupIds": ["sg-2"], "Subnets": ["subnet-2"]},
    },
    "X": {
        "Environment": {"TX_ENV": "cfg"},
        "ModelName": {"Get": "Parameters.ModelName"},
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in"}}},
        "TransformOutput": {"KmsKeyId": "tx-out-kms", "S3OutputPath": "s3://b/o"},
        "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeKmsKeyId": "tx-vol-kms"},
    },
    "H": {
        "HyperParameterTuningJobConfig": {
            "HyperParameterTuningJobObjective": {"MetricName": "m", "Type": "Maximize"},
            "ParameterRanges": {
                "CategoricalParameterRanges": [],
                "ContinuousParameterRanges": [{"MaxValue": "1", "MinValue": "0", "Name": "x", "ScalingType": "Auto"}],
                "IntegerParameterRanges": [],
            },
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            "Strategy": "Bayesian",
            "TrainingJobEarlyStoppingType": "Off",
        },
        "Tags": [{"Key": "train", "Value": "cfg"}],
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {
                "MetricDefinitions": [{"Name": "m", "Regex": "m=(.*)"}],
                "TrainingImage": IMAGE,
                "TrainingInputMode": "File",
            },
            "EnableInterContainerTrafficEncryption": True,
            "EnableNetworkIsolation": True,
            "Environment": {"TRAIN_ENV": "cfg"},
            "HyperParameterTuningResourceConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "VolumeKmsKeyId": "train-vol-kms",
                "VolumeSizeInGB": 30,
            },
            "InputDataConfig": [TRAIN_INPUT],
            "OutputDataConfig": {"KmsKeyId": "train-out-kms", "S3OutputPath": "s3://b/out"},
            "RoleArn": "arn:aws:iam::111111111111:role/TrainRole",
            "StaticHyperParameters": {},
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
            "VpcConfig": {"SecurityGroupIds": ["sg-2"], "Subnets": ["subnet-2"]},
        },
    },
}


def _expected_step_args():
    """The step_args forms: the same, plus the config's tags added when the request is built."""
    expected = copy.deepcopy(EXPECTED_LEGACY)
    expected["P"]["Tags"] = [{"Key": "proc", "Value": "cfg"}]
    expected["T"]["Tags"] = [{"Key": "train", "Value": "cfg"}]
    expected["X"]["Tags"] = [{"Key": "tx", "Value": "cfg"}]
    expected["M-CreateModel"] = {
        "EnableNetworkIsolation": True,
        "ExecutionRoleArn": "arn:aws:iam::111111111111:role/ModelRole",
        "PrimaryContainer": {"Environment": {}, "Image": IMAGE, "ModelDataUrl": "s3://b/model.tar.gz"},
        "Tags": [{"Key": "model", "Value": "cfg"}],
        "VpcConfig": {"SecurityGroupIds": ["sg-3"], "Subnets": ["subnet-3"]},
    }
    return expected


@pytest.fixture
def config_session(tmp_path, monkeypatch):
    """A pipeline session reading CONFIG as the user config file."""
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    monkeypatch.setenv(sm_config.ENV_VARIABLE_USER_CONFIG_OVERRIDE, str(path))
    monkeypatch.delenv(sm_config.ENV_VARIABLE_ADMIN_CONFIG_OVERRIDE, raising=False)
    return PipelineSession(store=tmp_path / "store")


def _jobs(session, model_name):
    """A processor, estimator, transformer and tuner that set none of the config's fields."""
    processor = ScriptProcessor(
        image_uri=IMAGE, command=["python3"], instance_count=1, instance_type="ml.m5.large", sagemaker_session=session
    )
    estimator = Estimator(
        image_uri=IMAGE,
        instance_count=1,
        instance_type="ml.m5.large",
        sagemaker_session=session,
        output_path="s3://b/out",
    )
    transformer = Transformer(
        model_name=model_name,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path="s3://b/o",
        sagemaker_session=session,
    )
    tuner = HyperparameterTuner(
        estimator,
        "m",
        {"x": ContinuousParameter(0, 1)},
        metric_definitions=[{"Name": "m", "Regex": "m=(.*)"}],
        max_jobs=2,
        max_parallel_jobs=1,
    )
    return processor, estimator, transformer, tuner


def _arguments(session, steps, parameters):
    pipeline = Pipeline(name="pp", steps=steps, parameters=parameters, sagemaker_session=session)
    return {s["Name"]: s["Arguments"] for s in json.loads(pipeline.definition())["Steps"]}


OUTPUTS = [ProcessingOutput(output_name="o", source="/opt/ml/processing/o")]


def test_older_step_forms_carry_the_config_defaults(config_session):
    model_name = ParameterString("ModelName", default_value="mm")
    processor, estimator, transformer, tuner = _jobs(config_session, model_name)
    with pytest.warns(DeprecationWarning):
        steps = [
            ProcessingStep(name="P", processor=processor, code="s3://b/code/p.py", outputs=OUTPUTS),
            TrainingStep(name="T", estimator=estimator, inputs="s3://b/x"),
            TransformStep(name="X", transformer=transformer, inputs=TransformInput(data="s3://b/in")),
            TuningStep(name="H", tuner=tuner, inputs="s3://b/x"),
        ]
    assert _arguments(config_session, steps, [model_name]) == EXPECTED_LEGACY


def test_step_args_forms_carry_the_config_defaults_and_tags(config_session):
    model_name = ParameterString("ModelName", default_value="mm")
    processor, estimator, transformer, tuner = _jobs(config_session, model_name)
    model = Model(image_uri=IMAGE, model_data="s3://b/model.tar.gz", sagemaker_session=config_session)
    steps = [
        ProcessingStep(name="P", step_args=processor.run(code="s3://b/code/p.py", outputs=OUTPUTS)),
        TrainingStep(name="T", step_args=estimator.fit("s3://b/x")),
        TransformStep(name="X", step_args=transformer.transform("s3://b/in")),
        TuningStep(name="H", step_args=tuner.fit("s3://b/x")),
        ModelStep(name="M", step_args=model.create(instance_type="ml.m5.large")),
    ]
    assert _arguments(config_session, steps, [model_name]) == _expected_step_args()


def _jobs_with_explicit_settings(session):
    processor = Processor(
        role="arn:aws:iam::1:role/Mine",
        image_uri=IMAGE,
        entrypoint=["python3"],
        instance_count=1,
        instance_type="ml.m5.large",
        sagemaker_session=session,
        env={"MINE": "1"},
        network_config=NetworkConfig(enable_network_isolation=False),
    )
    # A p4d instance has local NVMe storage: the config's volume key is not attached (as the SDK).
    estimator = Estimator(
        image_uri=IMAGE,
        instance_count=1,
        instance_type="ml.p4d.24xlarge",
        sagemaker_session=session,
        output_path="s3://b/out",
        enable_network_isolation=False,
        encrypt_inter_container_traffic=False,
        environment={"MINE": "2"},
        subnets=["s"],
        security_group_ids=["g"],
    )
    return processor, estimator


EXPECTED_EXPLICIT_PROCESSING = {
    "AppSpecification": {"ContainerEntrypoint": ["python3"], "ImageUri": IMAGE},
    "Environment": {"MINE": "1"},
    "NetworkConfig": {
        "EnableInterContainerTrafficEncryption": True,
        "EnableNetworkIsolation": False,
        "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]},
    },
    "ProcessingResources": {
        "ClusterConfig": {
            "InstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "VolumeKmsKeyId": "proc-vol-kms",
            "VolumeSizeInGB": 30,
        }
    },
    "RoleArn": "arn:aws:iam::1:role/Mine",
}

EXPECTED_EXPLICIT_TRAINING = {
    "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": "File"},
    "DebugHookConfig": {"CollectionConfigurations": [], "S3OutputPath": "s3://b/out"},
    "Environment": {"MINE": "2"},
    "InputDataConfig": [TRAIN_INPUT],
    "OutputDataConfig": {"KmsKeyId": "train-out-kms", "S3OutputPath": "s3://b/out"},
    "ProfilerConfig": {"DisableProfiler": False, "S3OutputPath": "s3://b/out"},
    "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.p4d.24xlarge", "VolumeSizeInGB": 30},
    "RoleArn": "arn:aws:iam::111111111111:role/TrainRole",
    "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
    "VpcConfig": {"SecurityGroupIds": ["g"], "Subnets": ["s"]},
}


def test_what_the_caller_sets_wins_over_the_config(config_session):
    processor, estimator = _jobs_with_explicit_settings(config_session)
    with pytest.warns(DeprecationWarning):
        steps = [
            ProcessingStep(name="P", processor=processor),
            TrainingStep(name="T", estimator=estimator, inputs="s3://b/x"),
        ]
    arguments = _arguments(config_session, steps, [])
    assert arguments == {"P": EXPECTED_EXPLICIT_PROCESSING, "T": EXPECTED_EXPLICIT_TRAINING}


def test_explicit_settings_under_step_args_keep_the_sdks_request_time_merge(config_session):
    processor, estimator = _jobs_with_explicit_settings(config_session)
    steps = [
        ProcessingStep(name="P", step_args=processor.run(logs=False)),
        TrainingStep(name="T", step_args=estimator.fit("s3://b/x")),
    ]
    arguments = _arguments(config_session, steps, [])
    # An estimator leaves a False inter-container encryption out of its training request, so the
    # SDK's request builder fills it from the config: True despite the explicit False.
    assert arguments == {
        "P": {**EXPECTED_EXPLICIT_PROCESSING, "Tags": [{"Key": "proc", "Value": "cfg"}]},
        "T": {
            **EXPECTED_EXPLICIT_TRAINING,
            "EnableInterContainerTrafficEncryption": True,
            "Tags": [{"Key": "train", "Value": "cfg"}],
        },
    }


def test_model_defaults_come_from_the_config_unless_given(config_session):
    assert Model(image_uri=IMAGE, sagemaker_session=config_session).enable_network_isolation() is True
    given = Model(image_uri=IMAGE, sagemaker_session=config_session, enable_network_isolation=False)
    assert given.enable_network_isolation() is False
    models = [
        Model(image_uri=IMAGE, model_data=f"s3://b/m{i}.tar.gz", sagemaker_session=config_session) for i in (0, 1)
    ]
    step = ModelStep(
        name="M", step_args=PipelineModel(models=models, sagemaker_session=config_session).create("ml.m5.large")
    )
    assert _arguments(config_session, [step], []) == {
        "M-CreateModel": {
            "Containers": [
                {"Environment": {}, "Image": IMAGE, "ModelDataUrl": "s3://b/m0.tar.gz"},
                {"Environment": {}, "Image": IMAGE, "ModelDataUrl": "s3://b/m1.tar.gz"},
            ],
            "EnableNetworkIsolation": True,
            "ExecutionRoleArn": "arn:aws:iam::111111111111:role/ModelRole",
            "Tags": [{"Key": "model", "Value": "cfg"}],
            "VpcConfig": {"SecurityGroupIds": ["sg-3"], "Subnets": ["subnet-3"]},
        }
    }


SCRIPT = """
import os
os.makedirs("/opt/ml/processing/o", exist_ok=True)
open("/opt/ml/processing/o/env.txt", "w").write(os.environ["PROC_ENV"])
"""


def test_the_config_environment_reaches_a_job_of_a_processor_step(config_session, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "script.py").write_text(SCRIPT)
    processor = ScriptProcessor(
        image_uri=IMAGE,
        command=["python3"],
        instance_count=1,
        instance_type="ml.m5.large",
        sagemaker_session=config_session,
    )
    with pytest.warns(DeprecationWarning):
        step = ProcessingStep(name="P", processor=processor, code="script.py", outputs=OUTPUTS)
    pipeline = Pipeline(name="cfg-forms-run", steps=[step], sagemaker_session=config_session)
    pipeline.create()
    execution = pipeline.start()
    execution.wait()
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", execution.list_steps()
    written = list((tmp_path / "store" / "s3" / "cfg-bucket" / "cfg-prefix").rglob("env.txt"))
    assert [w.read_text() for w in written] == ["from-config"]
