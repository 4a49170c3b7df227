"""The SDK names real pipeline files import beyond the step classes: ``sagemaker.network``, the
re-exports of ``sagemaker.workflow.steps`` and ``sagemaker.workflow``, the top-level names,
``sagemaker.utils`` and ``sagemaker.exceptions``, and ``Model``/``Estimator.transformer()``.

The expected definitions are written out here from the service's request shapes
(``CreateProcessingJob.NetworkConfig``, ``CreateTransformJob``); one pipeline uses them all and
runs locally end to end.
"""

import json
import re
import textwrap
import time
from pathlib import Path

import pytest
from sagepipe import image_uris
from sagepipe.estimator import Estimator
from sagepipe.exceptions import (
    AutoMLStepInvalidModeError,
    CapacityError,
    PipelineSessionRequiredError,
    UnexpectedStatusException,
)
from sagepipe.model import Model
from sagepipe.network import NetworkConfig
from sagepipe.session import Session
from sagepipe.sklearn import SKLearnProcessor
from sagepipe.utils import build_dict, format_tags, get_config_value, name_from_base, unique_name_from_base
from sagepipe.workflow import ExecutionVariables, ParameterString
from sagepipe.workflow.model_step import ModelStep
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.steps import (
    ProcessingOutput,
    ProcessingStep,
    TrainingInput,
    TrainingStep,
    TransformInput,
    TransformStep,
)

pytest.importorskip("xgboost")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
REGION = "us-east-1"

# Rows of y = 3*a + 2*b (label first, as the built-in XGBoost container reads CSV); the batch
# file has the features only.
PREPARE = """\
    import os
    out = "/opt/ml/processing"
    for name in ("train", "batch"):
        os.makedirs(f"{out}/{name}", exist_ok=True)
    with open(f"{out}/train/train.csv", "w") as train, open(f"{out}/batch/batch.csv", "w") as batch:
        for i in range(200):
            a, b = i % 10, (i * 7) % 13
            train.write(f"{3 * a + 2 * b},{a},{b}\\n")
            if i < 20:
                batch.write(f"{a},{b}\\n")
"""


@pytest.fixture
def sess(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    return PipelineSession(default_bucket="my-bucket", store=tmp_path / "store")


def _output_uri(step, name):
    return step.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri


def _train_model_transform(sess, tmp_path):
    """Prepare (with a NetworkConfig) -> built-in XGBoost -> ModelStep -> estimator.transformer()."""
    script = tmp_path / "prepare.py"
    script.write_text(textwrap.dedent(PREPARE))
    network = NetworkConfig(
        enable_network_isolation=True,
        security_group_ids=["sg-1"],
        subnets=["subnet-1", "subnet-2"],
        encrypt_inter_container_traffic=True,
    )
    processor = SKLearnProcessor(
        framework_version="1.2-1",
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        network_config=network,
        sagemaker_session=sess,
    )
    prepare = ProcessingStep(
        name="Prepare",
        step_args=processor.run(
            code=str(script),
            outputs=[
                ProcessingOutput(output_name="train", source="/opt/ml/processing/train"),
                ProcessingOutput(output_name="batch", source="/opt/ml/processing/batch"),
            ],
        ),
    )
    estimator = Estimator(
        image_uri=image_uris.retrieve("xgboost", REGION, "1.7-1"),
        role=ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        base_job_name="xgb",
        disable_profiler=True,
        sagemaker_session=sess,
        hyperparameters={"objective": "reg:squarederror", "num_round": 20},
    )
    train = TrainingStep(
        name="Train",
        step_args=estimator.fit(
            inputs={"train": TrainingInput(_output_uri(prepare, "train"), content_type="text/csv")}
        ),
    )
    model = Model(
        image_uri=estimator.training_image_uri(),
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        role=ROLE,
        sagemaker_session=sess,
    )
    model_step = ModelStep(name="Model", step_args=model.create(instance_type="ml.m5.large"))
    transformer = estimator.transformer(
        instance_count=1,
        instance_type="ml.m5.large",
        accept="text/csv",
        assemble_with="Line",
        model_name=model_step.properties.ModelName,
    )
    batch = TransformStep(
        name="Batch",
        step_args=transformer.transform(data=_output_uri(prepare, "batch"), content_type="text/csv", split_type="Line"),
    )
    return Pipeline(name="SdkSurface", steps=[prepare, train, model_step, batch], sagemaker_session=sess)


def _steps(execution):
    return {s["StepName"]: s for s in execution.list_steps()}


def test_network_config_and_estimator_transformer_build_the_service_shapes(sess, tmp_path):
    steps = {s["Name"]: s for s in json.loads(_train_model_transform(sess, tmp_path).definition())["Steps"]}

    assert steps["Prepare"]["Arguments"]["NetworkConfig"] == {
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "VpcConfig": {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1", "subnet-2"]},
    }
    transform = steps["Batch"]["Arguments"]
    assert transform["ModelName"] == {"Get": "Steps.Model-CreateModel.ModelName"}
    assert transform["TransformInput"] == {
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": {"Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['batch'].S3Output.S3Uri"},
            }
        },
        "ContentType": "text/csv",
        "SplitType": "Line",
    }
    assert transform["TransformOutput"]["Accept"] == "text/csv"
    assert transform["TransformOutput"]["AssembleWith"] == "Line"
    assert transform["TransformResources"] == {"InstanceCount": 1, "InstanceType": "ml.m5.large"}
    # EstimatorBase.transformer() passes env as given (None): no Environment (Framework defaults it to {})
    assert "Environment" not in transform


def test_network_config_defaults_to_no_isolation_and_omits_unset_members():
    assert NetworkConfig()._to_request_dict() == {"EnableNetworkIsolation": False}
    subnets_only = NetworkConfig(subnets=["subnet-1"])._to_request_dict()
    assert subnets_only == {
        "EnableNetworkIsolation": False,
        "VpcConfig": {"SecurityGroupIds": None, "Subnets": ["subnet-1"]},
    }
    from sagepipe.processing import NetworkConfig as from_processing

    assert from_processing is NetworkConfig  # the SDK's sagemaker.processing.NetworkConfig is the same class


def test_pipeline_with_network_config_and_transformers_runs_locally(sess, tmp_path):
    pipeline = _train_model_transform(sess, tmp_path)
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    execution.wait(delay=1, max_attempts=600)
    steps = _steps(execution)
    assert {n: s["StepStatus"] for n, s in steps.items()} == {
        "Prepare": "Succeeded",
        "Train": "Succeeded",
        "Model-CreateModel": "Succeeded",
        "Batch": "Succeeded",
    }, steps
    records = {r["StepName"]: r for r in json.loads(sess.store.load_steps(execution.arn))}
    out_dir = Path(sess.store.uri_to_path(records["Batch"]["Properties"]["TransformOutput"]["S3OutputPath"]))
    predictions = [float(x) for x in (out_dir / "batch.csv.out").read_text().split()]
    assert len(predictions) == 20 and all(-5 < p < 60 for p in predictions)

    # Model.transformer() of a model this store holds (created by the run above), in a new pipeline.
    stored_name = records["Model-CreateModel"]["Properties"]["ModelName"]
    named = Model(image_uri=image_uris.retrieve("xgboost", REGION, "1.7-1"), name=stored_name, sagemaker_session=sess)
    transformer = named.transformer(instance_count=1, instance_type="ml.m5.large", accept="text/csv")
    batch_uri = records["Prepare"]["Properties"]["ProcessingOutputConfig"]["Outputs"][1]["S3Output"]["S3Uri"]
    rescore = TransformStep(
        name="Rescore",
        step_args=transformer.transform(data=batch_uri, content_type="text/csv", split_type="Line"),
    )
    second = Pipeline(name="Rescore", steps=[rescore], sagemaker_session=sess)
    assert json.loads(second.definition())["Steps"][0]["Arguments"]["ModelName"] == stored_name
    second.upsert(role_arn=ROLE)
    run = second.start()
    run.wait(delay=1, max_attempts=600)
    again = {r["StepName"]: r for r in json.loads(sess.store.load_steps(run.arn))}
    assert again["Rescore"]["StepStatus"] == "Succeeded", again
    out_dir = Path(sess.store.uri_to_path(again["Rescore"]["Properties"]["TransformOutput"]["S3OutputPath"]))
    assert [float(x) for x in (out_dir / "batch.csv.out").read_text().split()] == predictions


def test_model_transformer_needs_a_pipeline_session_and_a_name(tmp_path):
    plain = Model(image_uri="img", model_data="s3://b/m.tar.gz", name="m", sagemaker_session=Session(store=tmp_path))
    with pytest.raises(PipelineSessionRequiredError, match="PipelineSession"):
        plain.transformer(instance_count=1, instance_type="ml.m5.large")
    unnamed = Model(image_uri="img", model_data="s3://b/m.tar.gz", sagemaker_session=PipelineSession(store=tmp_path))
    with pytest.raises(ValueError, match=r"model_step\.properties\.ModelName"):
        unnamed.transformer(instance_count=1, instance_type="ml.m5.large")
    isolated = Model(
        image_uri="img", name="m", enable_network_isolation=True, sagemaker_session=PipelineSession(store=tmp_path)
    )
    transformer = isolated.transformer(instance_count=2, instance_type="ml.m5.large", env={"A": "1"})
    assert (transformer.model_name, transformer.instance_count, transformer.env) == ("m", 2, None)
    assert transformer.base_transform_job_name == "m"


def test_estimator_transformer_needs_a_model_name(tmp_path):
    estimator = Estimator(
        image_uri="img", role=ROLE, instance_count=1, instance_type="ml.m5.large",
        sagemaker_session=PipelineSession(store=tmp_path), tags=[{"Key": "k", "Value": "v"}],
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"model_name=model_step\.properties\.ModelName"):
        estimator.transformer(instance_count=1, instance_type="ml.m5.large")
    transformer = estimator.transformer(instance_count=1, instance_type="ml.m5.large", model_name="named")
    assert (transformer.model_name, transformer.env, transformer.tags) == ("named", None, [{"Key": "k", "Value": "v"}])


def test_sdk_reexports_resolve_to_the_sagepipe_classes():
    import sagepipe.inputs
    import sagepipe.processing
    import sagepipe.workflow.parameters
    from sagepipe.workflow import steps as steps_module

    assert TransformInput is sagepipe.inputs.TransformInput
    assert steps_module.Processor is sagepipe.processing.Processor
    assert ParameterString is sagepipe.workflow.parameters.ParameterString
    assert ExecutionVariables.PIPELINE_EXECUTION_ID.expr == {"Get": "Execution.PipelineExecutionId"}
    for name in ("Session", "EstimatorBase", "Model", "Transformer", "HyperparameterTuner", "Condition"):
        assert name in dir(steps_module) and getattr(steps_module, name).__name__ == name
    with pytest.raises(AttributeError, match="no attribute 'TransformInputs'"):
        steps_module.TransformInputs  # noqa: B018
    for name in ("Session", "Model", "Processor", "ProfilerConfig", "container_def", "get_model_package_args"):
        assert getattr(sagepipe, name).__name__ == name


def test_utils_helpers():
    names = {unique_name_from_base("my-pipeline") for _ in range(20)}
    assert len(names) == 20
    for name in names:
        assert re.fullmatch(r"my-pipeline-\d{10}-[0-9a-f]{4}", name)
    long = unique_name_from_base("x" * 100, max_length=40)
    assert len(long) == 40 and long.startswith("x" * 24 + "-")
    assert int(long.split("-")[1]) <= time.time()
    assert re.fullmatch(r"base-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}", name_from_base("base"))
    assert build_dict("K", "v") == {"K": "v"} and build_dict("K", None) == {}
    assert get_config_value("a.b", {"a": {"b": 1}}) == 1 and get_config_value("a.c", {"a": {}}) is None
    assert format_tags({"team": "ml"}) == [{"Key": "team", "Value": "ml"}]
    assert format_tags([{"Key": "k", "Value": "v"}]) == [{"Key": "k", "Value": "v"}]


def test_sdk_exceptions():
    err = CapacityError("no capacity", allowed_statuses=["Completed"], actual_status="Failed")
    assert isinstance(err, UnexpectedStatusException) and isinstance(err, ValueError)
    assert (str(err), err.allowed_statuses, err.actual_status) == ("no capacity", ["Completed"], "Failed")
    assert "ENSEMBLING" in str(AutoMLStepInvalidModeError())


def test_custom_job_prefix_with_an_unnamed_model_is_a_value_error(tmp_path):
    """Regression: this was a TypeError from inside base_from_name(None)."""
    from sagepipe.workflow.pipeline_definition_config import PipelineDefinitionConfig

    session = PipelineSession(store=tmp_path / "store")
    model = Model(image_uri="img", model_data="s3://b/model.tar.gz", role=ROLE, sagemaker_session=session)
    pipeline = Pipeline(
        name="Prefixed",
        steps=[ModelStep(name="Unnamed", step_args=model.create())],
        sagemaker_session=session,
        pipeline_definition_config=PipelineDefinitionConfig(use_custom_job_prefix=True),
    )
    with pytest.raises(ValueError, match=r"use_custom_job_prefix flag is set but the name field \[ModelName\]"):
        pipeline.definition()


def test_predictors_import_and_say_there_are_no_endpoints():
    """`sagemaker.predictor.Predictor` (and every framework predictor deriving from it) imports, as
    `predictor_cls=` arguments need; constructing one names the endpoint and what to use instead."""
    import sagepipe
    from sagepipe.predictor import Predictor
    from sagepipe.pytorch import PyTorchPredictor
    from sagepipe.sklearn.model import SKLearnPredictor

    assert sagepipe.Predictor is Predictor
    assert issubclass(PyTorchPredictor, Predictor) and issubclass(SKLearnPredictor, Predictor)
    with pytest.raises(NotImplementedError, match=r"endpoint 'my-endpoint'.*TransformStep"):
        PyTorchPredictor("my-endpoint")
