"""sagepipe.workflow.airflow builds the Airflow SageMaker operator configs as SDK 2.257.6 does
(expected values observed from the SDK for these same objects): training (own image and built-in
algorithm with record sets), model, deploy and transform from an upstream task, transform,
processing and tuning configs. Airflow templates ("{{ ... }}") pass through untouched."""

import pytest
import sagepipe
from sagepipe.amazon.amazon_estimator import RecordSet
from sagepipe.estimator import Estimator
from sagepipe.network import NetworkConfig
from sagepipe.processing import ProcessingInput, ProcessingOutput, Processor
from sagepipe.session import Session
from sagepipe.transformer import Transformer
from sagepipe.tuner import ContinuousParameter, HyperparameterTuner, IntegerParameter
from sagepipe.workflow import airflow

BYO_IMAGE = "123.dkr.ecr.us-west-2.amazonaws.com/byo:2"
KNN_IMAGE = "174872318107.dkr.ecr.us-west-2.amazonaws.com/knn:1"


@pytest.fixture
def session(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    return Session(default_bucket="af-bucket", store=tmp_path / "store")


def _s3_channel(name, uri, data_type="S3Prefix", distribution="FullyReplicated"):
    source = {"S3DataDistributionType": distribution, "S3DataType": data_type, "S3Uri": uri}
    return {"ChannelName": name, "DataSource": {"S3DataSource": source}}


def _byo(session, **kwargs):
    estimator = Estimator(
        image_uri=BYO_IMAGE,
        role="{{ role }}",
        instance_type="ml.m5.large",
        output_path="s3://af-bucket/out/",
        sagemaker_session=session,
        **kwargs,
    )
    estimator.set_hyperparameters(alpha=0.5, depth=3)
    return estimator


def test_training_config_of_an_own_image(session):
    byo = _byo(
        session,
        instance_count=2,
        max_run=600,
        tags=[{"Key": "team", "Value": "ml"}],
        metric_definitions=[{"Name": "loss", "Regex": "loss=(.*)"}],
        subnets=["subnet-1"],
        security_group_ids=["sg-1"],
    )
    config = airflow.training_config(
        byo, {"train": "s3://af-bucket/train/", "validation": "{{ validation }}"}, job_name="byo-job"
    )
    assert config == {
        "TrainingJobName": "byo-job",
        "AlgorithmSpecification": {
            "TrainingImage": BYO_IMAGE,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "loss", "Regex": "loss=(.*)"}],
        },
        "HyperParameters": {"alpha": "0.5", "depth": "3"},
        "InputDataConfig": [
            _s3_channel("train", "s3://af-bucket/train/"),
            _s3_channel("validation", "{{ validation }}"),
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://af-bucket/out/"},
        "ResourceConfig": {"InstanceCount": 2, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30},
        "RoleArn": "{{ role }}",  # templates are never expanded
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        "Tags": [{"Key": "team", "Value": "ml"}],
        "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]},
    }


@pytest.fixture
def trained_knn(session):
    """A KNN estimator after its training config was built (as an Airflow DAG file does)."""
    knn = sagepipe.KNN(
        role="{{ role }}",
        instance_count=1,
        instance_type="ml.m5.large",
        k=5,
        sample_size=200,
        predictor_type="classifier",
        sagemaker_session=session,
    )
    records = [
        RecordSet("{{ train_records }}", 1000, 16, "S3Prefix"),
        RecordSet("s3://af-bucket/test/.amazon.manifest", 100, 16, channel="test"),
    ]
    config = airflow.training_config(knn, records, job_name="knn-job", mini_batch_size=100)
    return knn, config


def _knn_model(upstream):
    return {
        "ModelName": "knn-model",
        "ExecutionRoleArn": "{{ role }}",
        "PrimaryContainer": {
            "Image": KNN_IMAGE,
            "Environment": {},
            "ModelDataUrl": "s3://af-bucket/{{ ti.xcom_pull(task_ids='train_knn')"
            + upstream
            + " }}/output/model.tar.gz",
        },
    }


def test_training_config_of_a_builtin_algorithm_with_record_sets(trained_knn):
    _, config = trained_knn
    assert config == {
        "TrainingJobName": "knn-job",
        "AlgorithmSpecification": {"TrainingImage": KNN_IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": {
            "k": "5",
            "sample_size": "200",
            "predictor_type": "classifier",
            "feature_dim": "16",
            "mini_batch_size": "100",
        },
        "InputDataConfig": [
            _s3_channel("train", "{{ train_records }}", distribution="ShardedByS3Key"),
            _s3_channel("test", "s3://af-bucket/test/.amazon.manifest", "ManifestFile", "ShardedByS3Key"),
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://af-bucket/"},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30},
        "RoleArn": "{{ role }}",
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
    }


def test_model_and_deploy_configs_from_a_training_task(trained_knn):
    knn, _ = trained_knn
    model = airflow.model_config_from_estimator(knn, task_id="train_knn", task_type="training", name="knn-model")
    assert model == _knn_model("['Training']['TrainingJobName']")
    deploy = airflow.deploy_config_from_estimator(
        knn,
        task_id="train_knn",
        task_type="training",
        initial_instance_count=1,
        instance_type="ml.c5.large",
        model_name="knn-model",
        endpoint_name="knn-endpoint",
        tags=[{"Key": "a", "Value": "b"}],
    )
    variant = {
        "ModelName": "knn-model",
        "InstanceType": "ml.c5.large",
        "InitialInstanceCount": 1,
        "VariantName": "AllTraffic",
        "InitialVariantWeight": 1,
    }
    assert deploy == {
        "Model": _knn_model("['Training']['TrainingJobName']"),
        "EndpointConfig": {
            "EndpointConfigName": "knn-model",
            "ProductionVariants": [variant],
            "Tags": [{"Key": "a", "Value": "b"}],
        },
        "Endpoint": {"EndpointName": "knn-endpoint", "EndpointConfigName": "knn-model"},
    }
    with pytest.raises(ValueError, match="task_type must be either 'training', 'tuning' or None"):
        airflow.model_config_from_estimator(knn, task_id="x", task_type="processing")


def test_transform_config_from_a_tuning_task(trained_knn):
    knn, _ = trained_knn
    config = airflow.transform_config_from_estimator(
        knn,
        task_id="train_knn",
        task_type="tuning",
        instance_count=1,
        instance_type="ml.c5.large",
        data="s3://af-bucket/batch/",
        content_type="application/x-recordio-protobuf",
        split_type="RecordIO",
        job_name="knn-batch",
        model_name="knn-model",
        output_path="s3://af-bucket/batch-out/",
    )
    assert config == {
        "Model": _knn_model("['Tuning']['BestTrainingJob']['TrainingJobName']"),
        "Transform": {
            "TransformJobName": "knn-batch",
            "ModelName": "knn-model",
            "TransformInput": {
                "ContentType": "application/x-recordio-protobuf",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://af-bucket/batch/"}},
                "SplitType": "RecordIO",
            },
            "TransformOutput": {"S3OutputPath": "s3://af-bucket/batch-out/"},
            "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.c5.large"},
        },
    }


def test_transform_config(session):
    transformer = Transformer(
        model_name="my-model",
        instance_count=1,
        instance_type="ml.m5.large",
        strategy="MultiRecord",
        assemble_with="Line",
        output_path="s3://af-bucket/t/",
        accept="text/csv",
        max_payload=6,
        env={"A": "1"},
        sagemaker_session=session,
    )
    config = airflow.transform_config(
        transformer,
        "s3://af-bucket/in/",
        content_type="text/csv",
        split_type="Line",
        job_name="t-job",
        input_filter="$[1:]",
        join_source="Input",
    )
    assert config == {
        "TransformJobName": "t-job",
        "ModelName": "my-model",
        "BatchStrategy": "MultiRecord",
        "DataProcessing": {"InputFilter": "$[1:]", "JoinSource": "Input"},
        "Environment": {"A": "1"},
        "MaxPayloadInMB": 6,
        "TransformInput": {
            "ContentType": "text/csv",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://af-bucket/in/"}},
            "SplitType": "Line",
        },
        "TransformOutput": {"Accept": "text/csv", "AssembleWith": "Line", "S3OutputPath": "s3://af-bucket/t/"},
        "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.m5.large"},
    }


def test_processing_config(session):
    processor = Processor(
        role="arn:aws:iam::1:role/P",
        image_uri="img:1",
        instance_count=1,
        instance_type="ml.m5.large",
        entrypoint=["python3"],
        max_runtime_in_seconds=300,
        env={"E": "1"},
        network_config=NetworkConfig(enable_network_isolation=True),
        sagemaker_session=session,
    )
    config = airflow.processing_config(
        processor,
        inputs=[
            ProcessingInput(source="s3://af-bucket/raw/", destination="/opt/ml/processing/input", input_name="raw")
        ],
        outputs=[
            ProcessingOutput(
                source="/opt/ml/processing/out", destination="s3://af-bucket/processed/", output_name="processed"
            )
        ],
        job_name="p-job",
        container_arguments=["--x", "1"],
    )
    s3_input = {
        "LocalPath": "/opt/ml/processing/input",
        "S3CompressionType": "None",
        "S3DataDistributionType": "FullyReplicated",
        "S3DataType": "S3Prefix",
        "S3InputMode": "File",
        "S3Uri": "s3://af-bucket/raw/",
    }
    s3_output = {
        "LocalPath": "/opt/ml/processing/out",
        "S3UploadMode": "EndOfJob",
        "S3Uri": "s3://af-bucket/processed/",
    }
    # the processor's own entrypoint is not the config's: only container_entrypoint= sets one
    assert config == {
        "ProcessingJobName": "p-job",
        "AppSpecification": {"ContainerArguments": ["--x", "1"], "ImageUri": "img:1"},
        "Environment": {"E": "1"},
        "NetworkConfig": {"EnableNetworkIsolation": True},
        "ProcessingInputs": [{"AppManaged": False, "InputName": "raw", "S3Input": s3_input}],
        "ProcessingOutputConfig": {
            "Outputs": [{"AppManaged": False, "OutputName": "processed", "S3Output": s3_output}]
        },
        "ProcessingResources": {
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30}
        },
        "RoleArn": "arn:aws:iam::1:role/P",
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def test_tuning_config_of_a_single_estimator(session):
    tuner = HyperparameterTuner(
        _byo(session, instance_count=1),
        "validation:loss",
        {"alpha": ContinuousParameter(0.1, 0.9), "depth": IntegerParameter(2, 6)},
        metric_definitions=[{"Name": "validation:loss", "Regex": "loss=(.*)"}],
        objective_type="Minimize",
        max_jobs=4,
        max_parallel_jobs=2,
    )
    config = airflow.tuning_config(tuner, "s3://af-bucket/train/", job_name="tune-job")
    assert config == {
        "HyperParameterTuningJobName": "tune-job",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"MetricName": "validation:loss", "Type": "Minimize"},
            "ParameterRanges": {
                "CategoricalParameterRanges": [],
                "ContinuousParameterRanges": [
                    {"MaxValue": "0.9", "MinValue": "0.1", "Name": "alpha", "ScalingType": "Auto"}
                ],
                "IntegerParameterRanges": [{"MaxValue": "6", "MinValue": "2", "Name": "depth", "ScalingType": "Auto"}],
            },
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 4, "MaxParallelTrainingJobs": 2},
            "TrainingJobEarlyStoppingType": "Off",
        },
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {
                "MetricDefinitions": [{"Name": "validation:loss", "Regex": "loss=(.*)"}],
                "TrainingImage": BYO_IMAGE,
                "TrainingInputMode": "File",
            },
            "InputDataConfig": [_s3_channel("training", "s3://af-bucket/train/")],
            "OutputDataConfig": {"S3OutputPath": "s3://af-bucket/out/"},
            "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 30},
            "RoleArn": "{{ role }}",
            "StaticHyperParameters": {},  # both hyperparameters are tuned
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        },
    }


def test_s3_operations_merge_keeps_each_operation_once():
    upload = {"Path": "src", "Bucket": "b", "Key": "job/source/sourcedir.tar.gz", "Tar": True}
    merged = airflow._merge_s3_operations(
        [{"S3Upload": [upload]}, {"S3Upload": [dict(upload)], "S3CreateBucket": [{"Bucket": "b"}]}, {}]
    )
    assert merged == {"S3Upload": [upload], "S3CreateBucket": [{"Bucket": "b"}]}
