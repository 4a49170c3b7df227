"""Framework estimators and models (PyTorch, TensorFlow, Hugging Face, MXNet, Chainer, SKLearn,
XGBoost), PipelineModel, SparkMLModel and ModelPackage.

Definitions are compared with what the real SDK v2 produced for the same code
(``fixtures/frameworks/definition.json``, recorded by ``fixtures/frameworks/gen_frameworks.py``)
and image URIs with values recorded from the SDK's ``image_uris.retrieve``. Then real runs: a
PyTorch estimator whose script uses scikit-learn trains in script mode on this machine, its model
is repacked with inference code and serves a batch transform through the script's handlers, and a
script importing a framework that is not installed fails with that ImportError.
"""

import importlib.util
import json
import re
import tarfile
from pathlib import Path

import frameworks_lib as lib
import pytest
from sagepipe import image_uris
from sagepipe.inputs import TrainingInput
from sagepipe.model import FrameworkModel, ModelPackage
from sagepipe.pipeline import PipelineModel
from sagepipe.pytorch import PyTorch, PyTorchModel
from sagepipe.sklearn import SKLearnModel
from sagepipe.sparkml import SparkMLModel
from sagepipe.tensorflow import TensorFlowModel
from sagepipe.transformer import Transformer
from sagepipe.workflow.model_step import ModelStep
from sagepipe.workflow.parameters import ParameterString
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.step_collections import RegisterModel
from sagepipe.workflow.steps import TrainingStep, TransformStep

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}")
ROLE = lib.ROLE


@pytest.fixture
def sess(tmp_path):
    return PipelineSession(default_bucket="my-bucket", store=tmp_path / "store")


def _without_timestamps(obj) -> dict:
    return json.loads(TIMESTAMP.sub("<timestamp>", json.dumps(obj)))


# -- definitions ----------------------------------------------------------------------------------


def test_every_framework_class_builds_the_sdk_definition(sess, monkeypatch):
    monkeypatch.chdir(lib.FRAMEWORKS_DIR)
    got = json.loads(lib.build("sagepipe", sess).definition())
    expected = json.loads((lib.FRAMEWORKS_DIR / "definition.json").read_text())
    assert [s["Name"] for s in got["Steps"]] == [s["Name"] for s in expected["Steps"]]
    for mine, sdk in zip(got["Steps"], expected["Steps"]):
        assert _without_timestamps(mine) == _without_timestamps(sdk), mine["Name"]
    assert {k: v for k, v in got.items() if k != "Steps"} == {k: v for k, v in expected.items() if k != "Steps"}
    # Only generated model and code names carry time stamps (create_model(), repack jobs, uploads).
    stamped = {s["Name"] for s in got["Steps"] if TIMESTAMP.search(json.dumps(s))}
    assert stamped == {s["Name"] for s in expected["Steps"] if TIMESTAMP.search(json.dumps(s))}


def test_definition_facts_of_the_framework_steps(sess, monkeypatch):
    """What the golden file pins, spelled out: images, script-mode settings and repacks per framework."""
    monkeypatch.chdir(lib.FRAMEWORKS_DIR)
    steps = {s["Name"]: s for s in json.loads(lib.build("sagepipe", sess).definition())["Steps"]}
    ecr = "763104351884.dkr.ecr.us-east-1.amazonaws.com"
    torch = steps["TrainTorch"]["Arguments"]
    assert torch["AlgorithmSpecification"]["TrainingImage"] == f"{ecr}/pytorch-training:2.1-cpu-py310"
    assert torch["HyperParameters"]["sagemaker_program"] == '"train.py"'
    assert torch["HyperParameters"]["fit-intercept"] == "1"
    assert torch["AlgorithmSpecification"]["EnableSageMakerMetricsTimeSeries"] is True  # PyTorch >= 1.3
    tf = steps["TrainTF"]["Arguments"]["HyperParameters"]
    assert tf["sagemaker_multi_worker_mirrored_strategy_enabled"] == "true"
    assert tf["model_dir"].startswith('"s3://my-bucket/') and tf["model_dir"].endswith('/model"')
    hf = steps["TrainHF"]["Arguments"]
    assert hf["AlgorithmSpecification"]["TrainingImage"] == (
        f"{ecr}/huggingface-pytorch-training:1.13-transformers4.26-gpu-py39-cu117-ubuntu20.04"
    )
    assert hf["HyperParameters"]["sagemaker_mpi_enabled"] == "true"
    assert hf["HyperParameters"]["sagemaker_mpi_num_of_processes_per_host"] == "2"
    assert steps["TrainMX"]["Arguments"]["HyperParameters"]["sagemaker_parameter_server_enabled"] == "true"
    assert steps["TrainChainer"]["Arguments"]["HyperParameters"]["sagemaker_use_mpi"] == "true"
    # MMS-served frameworks repack the inference code into the model; Chainer uploads it beside.
    for name in ("TorchModel", "HFModel", "MXModel"):
        env = steps[f"{name}-CreateModel"]["Arguments"]["PrimaryContainer"]["Environment"]
        assert env["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code" and f"{name}-RepackModel-0" in steps
    chainer_env = steps["ChainerModel-CreateModel"]["Arguments"]["PrimaryContainer"]["Environment"]
    assert chainer_env["SAGEMAKER_SUBMIT_DIRECTORY"].endswith("/sourcedir.tar.gz")
    assert (
        steps["MXModel-CreateModel"]["Arguments"]["PrimaryContainer"]["Environment"]["SAGEMAKER_MODEL_SERVER_WORKERS"]
        == "2"
    )
    registered = steps["RegisterTorch-RegisterModel"]["Arguments"]["InferenceSpecification"]["Containers"][0]
    assert (registered["Framework"], registered["FrameworkVersion"]) == ("PYTORCH", "2.1")
    tf_registered = steps["RegisterTF-RegisterModel"]["Arguments"]["InferenceSpecification"]["Containers"][0]
    assert tf_registered["Image"] == f"{ecr}/tensorflow-inference:2.13-cpu"
    assert tf_registered["ModelDataUrl"] == {"Get": "Steps.RegisterTF-RepackModel-0.ModelArtifacts.S3ModelArtifacts"}
    containers = steps["InferencePipeline-CreateModel"]["Arguments"]["Containers"]
    assert [c["Image"].split("/")[-1] for c in containers] == [
        "sagemaker-sparkml-serving:3.3",
        "sagemaker-scikit-learn:1.2-1-cpu-py3",
    ]
    assert steps["FromPackage-CreateModel"]["Arguments"]["Containers"] == [{"ModelPackageName": lib.PACKAGE_ARN}]


def test_sdk_module_paths_import():
    import sagepipe
    from sagepipe import chainer, huggingface, mxnet, sparkml, tensorflow  # noqa: F401

    assert sagepipe.PipelineModel is PipelineModel and sagepipe.FrameworkModel is FrameworkModel
    assert sagepipe.ModelPackage is ModelPackage
    assert issubclass(PyTorchModel, FrameworkModel) and issubclass(SKLearnModel, FrameworkModel)
    from sagepipe.sparkml.model import SparkMLModel as from_module

    assert from_module is SparkMLModel


def test_estimator_create_model_serves_the_estimators_code(sess, monkeypatch):
    monkeypatch.chdir(lib.FRAMEWORKS_DIR)
    est = PyTorch(
        entry_point="train.py",
        source_dir="code/train",
        framework_version="2.1",
        py_version="py310",
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=sess,
    )
    train = TrainingStep(name="T", step_args=est.fit("s3://my-bucket/train"))
    assert train.arguments["HyperParameters"]["sagemaker_program"] == '"train.py"'  # fit() runs at definition
    model = est.create_model(entry_point="inference.py", source_dir="code/serve", model_server_workers=3)
    assert isinstance(model, PyTorchModel)
    assert (model.framework_version, model.py_version, model.model_server_workers) == ("2.1", "py310", 3)
    assert model.model_data == est.model_data and model.role == ROLE
    default = est.create_model()
    assert default.entry_point == "train.py" and default.source_dir.endswith("/sourcedir.tar.gz")


def test_version_arguments_are_checked_like_the_sdk(sess):
    with pytest.raises(ValueError, match="framework_version or py_version was None"):
        PyTorch(entry_point="t.py", framework_version="2.1", role=ROLE, sagemaker_session=sess)
    with pytest.raises(ValueError, match="entry_point must be set"):
        PyTorch(framework_version="2.1", py_version="py310", role=ROLE, sagemaker_session=sess)
    with pytest.raises(AttributeError, match="only supports Python 3"):
        SKLearnModel("s3://b/m.tar.gz", framework_version="1.2-1", py_version="py2")
    with pytest.raises(ValueError, match="Must supply either an instance type"):
        PyTorchModel("s3://b/m.tar.gz", framework_version="2.1", py_version="py310", sagemaker_session=sess).create()
    with pytest.raises(ValueError, match="role is required"):
        PipelineModel(models=[])
    with pytest.raises(ValueError, match="mutually exclusive"):
        ModelPackage(role=ROLE, model_package_arn="a", algorithm_arn="b")


# -- image URIs (recorded from the SDK's image_uris.retrieve, us-west-2) ----------------------------

DLC = "763104351884.dkr.ecr.us-west-2.amazonaws.com"
SAGEMAKER_ECR = "246618743249.dkr.ecr.us-west-2.amazonaws.com"
RECORDED_URIS = [
    (
        "pytorch",
        dict(version="1.13", py_version="py39", instance_type="ml.m5.xlarge", image_scope="training"),
        f"{DLC}/pytorch-training:1.13-cpu-py39",
    ),
    (
        "pytorch",
        dict(version="2.0.1", py_version="py310", instance_type="ml.p3.2xlarge", image_scope="training"),
        f"{DLC}/pytorch-training:2.0.1-gpu-py310",
    ),
    (
        "pytorch",
        dict(version="2.1", py_version="py310", instance_type="ml.g5.xlarge", image_scope="inference"),
        f"{DLC}/pytorch-inference:2.1-gpu-py310",
    ),
    (
        "pytorch",
        dict(version="2.0", py_version="py310", instance_type="ml.c6g.xlarge", image_scope="inference"),
        f"{DLC}/pytorch-inference-graviton:2.0-cpu-py310-ubuntu20.04-sagemaker",
    ),
    (
        "pytorch",
        dict(
            version="1.5",
            py_version="py3",
            instance_type="ml.m5.xlarge",
            image_scope="inference",
            accelerator_type="ml.eia2.medium",
        ),
        f"{DLC}/pytorch-inference-eia:1.5-cpu-py3",
    ),
    (
        "pytorch",
        dict(version="1.11", py_version="py38", instance_type="ml.trn1.2xlarge", image_scope="training"),
        f"{DLC}/pytorch-training-neuron:1.11-neuron-py38-sdk2.4.0-ubuntu20.04",
    ),
    (
        "tensorflow",
        dict(version="2.11", py_version="py39", instance_type="ml.m5.xlarge", image_scope="training"),
        f"{DLC}/tensorflow-training:2.11-cpu-py39",
    ),
    (
        "tensorflow",
        dict(version="2.13", instance_type="ml.m5.xlarge", image_scope="inference"),
        f"{DLC}/tensorflow-inference:2.13-cpu",
    ),
    (
        "tensorflow",
        dict(version="2.9", instance_type="ml.c6g.xlarge", image_scope="inference"),
        f"{DLC}/tensorflow-inference-graviton:2.9-cpu-py38-ubuntu20.04-sagemaker",
    ),
    (
        "mxnet",
        dict(version="1.8", py_version="py37", instance_type="ml.m5.xlarge", image_scope="training"),
        f"{DLC}/mxnet-training:1.8-cpu-py37",
    ),
    (
        "mxnet",
        dict(version="1.4.1", py_version="py3", instance_type="ml.p2.xlarge", image_scope="inference"),
        f"{DLC}/mxnet-inference:1.4.1-gpu-py3",
    ),
    (
        "chainer",
        dict(version="5.0", py_version="py3", instance_type="ml.m5.xlarge", image_scope="training"),
        "520713654638.dkr.ecr.us-west-2.amazonaws.com/sagemaker-chainer:5.0-cpu-py3",
    ),
    (
        "huggingface",
        dict(
            version="4.26",
            base_framework_version="pytorch1.13",
            py_version="py39",
            instance_type="ml.p3.2xlarge",
            image_scope="training",
        ),
        f"{DLC}/huggingface-pytorch-training:1.13-transformers4.26-gpu-py39-cu117-ubuntu20.04",
    ),
    (
        "huggingface",
        dict(
            version="4.26.0",
            base_framework_version="pytorch1.13.1",
            py_version="py39",
            instance_type="ml.g4dn.xlarge",
            image_scope="inference",
        ),
        f"{DLC}/huggingface-pytorch-inference:1.13.1-transformers4.26.0-gpu-py39-cu117-ubuntu20.04",
    ),
    (
        "huggingface",
        dict(
            version="4.17",
            base_framework_version="tensorflow2.6",
            py_version="py38",
            instance_type="ml.p3.2xlarge",
            image_scope="training",
        ),
        f"{DLC}/huggingface-tensorflow-training:2.6-transformers4.17-gpu-py38-cu112-ubuntu20.04",
    ),
    (
        "sklearn",
        dict(version="1.0-1", instance_type="ml.c6g.xlarge", image_scope="inference"),
        f"{SAGEMAKER_ECR}/sagemaker-scikit-learn:1.0-1-arm64-cpu-py3",
    ),
    ("sparkml-serving", dict(version="3.3"), f"{SAGEMAKER_ECR}/sagemaker-sparkml-serving:3.3"),
]


@pytest.mark.parametrize("framework,arguments,uri", RECORDED_URIS)
def test_image_uris_match_the_sdk(framework, arguments, uri):
    assert image_uris.retrieve(framework, "us-west-2", **arguments) == uri


def test_image_uri_errors_match_the_sdk():
    # Hugging Face 4.26 training images are GPU-only; the SDK refuses a CPU instance the same way.
    with pytest.raises(ValueError, match="Unsupported processor: cpu"):
        image_uris.retrieve(
            "huggingface",
            "us-west-2",
            version="4.26",
            base_framework_version="pytorch1.13",
            py_version="py39",
            instance_type="ml.m5.xlarge",
            image_scope="training",
        )
    with pytest.raises(ValueError, match="Unsupported base framework"):
        image_uris.retrieve(
            "huggingface",
            "us-west-2",
            version="4.26",
            base_framework_version="pytorch9.9",
            py_version="py39",
            instance_type="ml.p3.2xlarge",
            image_scope="training",
        )


# -- real runs ------------------------------------------------------------------------------------


def _put(sess, uri: str, text: str) -> None:
    bucket, key = uri[len("s3://") :].split("/", 1)
    sess.upload_string_as_file_body(body=text.encode(), bucket=bucket, key=key)


def _store_path(sess, uri: str) -> Path:
    return Path(sess.store.uri_to_path(uri))


def _run(pipeline):
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    execution.wait()
    return execution, {s["StepName"]: s for s in execution.list_steps()}


def test_pytorch_estimator_trains_in_script_mode_and_its_model_serves_a_transform(sess, monkeypatch):
    """torch is not needed: the script uses scikit-learn, run by this machine's Python as script mode does."""
    monkeypatch.chdir(lib.FRAMEWORKS_DIR)
    rows = [(2 * x + 1, x) for x in range(10)]
    _put(sess, "s3://my-bucket/fw/train/data.csv", "".join(f"{y},{x}\n" for y, x in rows))
    _put(sess, "s3://my-bucket/fw/batch/in.csv", "10\n20\n")
    train_data = ParameterString(name="TrainData", default_value="s3://my-bucket/fw/train")
    est = PyTorch(
        entry_point="train.py",
        source_dir="code/train",
        framework_version="2.1",
        py_version="py310",
        hyperparameters={"fit-intercept": 1},
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=sess,
    )
    train = TrainingStep(
        name="TrainTorch", step_args=est.fit({"train": TrainingInput(train_data, content_type="text/csv")})
    )
    model = PyTorchModel(
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        entry_point="inference.py",
        source_dir="code/serve",
        framework_version="2.1",
        py_version="py310",
        role=ROLE,
        sagemaker_session=sess,
    )
    create = ModelStep(name="TorchModel", step_args=model.create(instance_type="ml.m5.xlarge"))
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        output_path="s3://my-bucket/fw/predictions",
        sagemaker_session=sess,
    )
    batch = TransformStep(
        name="BatchTorch",
        step_args=transformer.transform(data="s3://my-bucket/fw/batch", content_type="text/csv", split_type="Line"),
    )
    pipeline = Pipeline(
        name="torch-sklearn", parameters=[train_data], steps=[train, create, batch], sagemaker_session=sess
    )
    execution, steps = _run(pipeline)
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", {
        n: s.get("FailureReason") for n, s in steps.items()
    }
    assert set(steps) == {"TrainTorch", "TorchModel-RepackModel-0", "TorchModel-CreateModel", "BatchTorch"}
    assert "trained on 10 rows with algo-1" in execution.logs("TrainTorch")
    artifacts = steps["TrainTorch"]["Metadata"]["TrainingJob"]["Arn"]
    assert artifacts.startswith("arn:aws:sagemaker:local:")
    records = {r["StepName"]: r for r in json.loads(sess.store.load_steps(execution.arn))}
    model_tar = records["TrainTorch"]["Properties"]["ModelArtifacts"]["S3ModelArtifacts"]
    assert model_tar.endswith("/output/model.tar.gz")
    with tarfile.open(_store_path(sess, model_tar)) as tar:
        assert tar.getnames() == ["model.pkl"]
    repacked = records["TorchModel-RepackModel-0"]["Properties"]["ModelArtifacts"]["S3ModelArtifacts"]
    with tarfile.open(_store_path(sess, repacked)) as tar:
        assert {"model.pkl", "code/inference.py"} <= set(tar.getnames())
    predictions = _store_path(sess, "s3://my-bucket/fw/predictions/in.csv.out").read_text().split()
    assert predictions == ["21.000", "41.000"]


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed here")
def test_a_script_whose_framework_is_not_installed_fails_with_its_import_error(sess, monkeypatch):
    monkeypatch.chdir(lib.FRAMEWORKS_DIR)
    _put(sess, "s3://my-bucket/fw/train/data.csv", "1,0\n")
    est = PyTorch(
        entry_point="needs_torch.py",
        source_dir="code/train",
        framework_version="2.1",
        py_version="py310",
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=sess,
    )
    train = TrainingStep(name="NeedsTorch", step_args=est.fit("s3://my-bucket/fw/train"))
    execution, steps = _run(Pipeline(name="needs-torch", steps=[train], sagemaker_session=sess))
    step = steps["NeedsTorch"]
    assert step["StepStatus"] == "Failed"
    assert "ModuleNotFoundError: No module named 'torch'" in step["FailureReason"]
    assert "No module named 'torch'" in execution.logs("NeedsTorch")


def test_a_transform_of_a_multi_container_model_fails_before_running(sess, monkeypatch):
    monkeypatch.chdir(lib.FRAMEWORKS_DIR)
    sk_model = SKLearnModel(
        model_data="s3://my-bucket/fw/sklearn/model.tar.gz",
        entry_point="inference.py",
        source_dir="code/serve",
        framework_version="1.2-1",
        role=ROLE,
        sagemaker_session=sess,
    )
    spark = SparkMLModel(model_data="s3://my-bucket/fw/spark/model.tar.gz", role=ROLE, sagemaker_session=sess)
    both = PipelineModel(models=[spark, sk_model], role=ROLE, sagemaker_session=sess)
    create = ModelStep(name="Both", step_args=both.create(instance_type="ml.m5.xlarge"))
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        output_path="s3://my-bucket/fw/out",
        sagemaker_session=sess,
    )
    batch = TransformStep(name="Score", step_args=transformer.transform(data="s3://my-bucket/fw/batch"))
    pipeline = Pipeline(name="two-containers", steps=[create, batch], sagemaker_session=sess)
    pipeline.upsert(role_arn=ROLE)
    with pytest.raises(Exception, match=r"step 'Score'.*2 containers") as err:
        pipeline.start()
    assert "Both-CreateModel" in str(err.value)
    assert pipeline.list_executions()["PipelineExecutionSummaries"] == []


def test_a_transform_of_a_tensorflow_serving_model_fails_before_running(sess):
    """TensorFlow Serving is not a script-mode server: the run is refused before any step starts."""
    model = TensorFlowModel(
        model_data="s3://my-bucket/fw/tf/model.tar.gz", framework_version="2.13", role=ROLE, sagemaker_session=sess
    )
    create = ModelStep(name="TF", step_args=model.create(instance_type="ml.m5.xlarge"))
    transformer = Transformer(
        model_name=create.properties.ModelName,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        output_path="s3://my-bucket/fw/out",
        sagemaker_session=sess,
    )
    batch = TransformStep(name="ScoreTF", step_args=transformer.transform(data="s3://my-bucket/fw/batch"))
    pipeline = Pipeline(name="tf-serving", steps=[create, batch], sagemaker_session=sess)
    pipeline.upsert(role_arn=ROLE)
    with pytest.raises(Exception, match=r"step 'ScoreTF'.*tensorflow-inference:2.13-cpu.*cannot be served locally"):
        pipeline.start()
    assert pipeline.list_executions()["PipelineExecutionSummaries"] == []


def test_register_model_of_a_framework_estimator_records_its_inference_image(sess, monkeypatch):
    monkeypatch.chdir(lib.FRAMEWORKS_DIR)
    est = PyTorch(
        entry_point="train.py",
        source_dir="code/train",
        framework_version="2.1",
        py_version="py310",
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=sess,
    )
    register = RegisterModel(
        name="Register",
        estimator=est,
        model_data="s3://my-bucket/fw/model.tar.gz",
        content_types=["text/csv"],
        response_types=["text/csv"],
        inference_instances=["ml.c5.xlarge"],
        transform_instances=["ml.c5.xlarge"],
        model_package_group_name="torch",
    )
    (step,) = register.request_dicts()
    (container,) = step["Arguments"]["InferenceSpecification"]["Containers"]
    assert container == {
        "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1-cpu-py310",
        "ModelDataUrl": "s3://my-bucket/fw/model.tar.gz",
    }
