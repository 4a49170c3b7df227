"""SDK conformance residue (issue 14): the RL estimator, framework transformers, model pipelines of
framework models, repacks with an ``s3://`` source_dir and the Clarify processor's run methods.

Expected values were observed with the real SDK v2 (image URIs from ``image_uris.retrieve``,
hyperparameter names, argument shapes); the runs are real pipelines on a temp store.
"""

import json
from pathlib import Path

import pytest
from sagepipe import image_uris
from sagepipe.rl import RLEstimator, RLFramework, RLToolkit
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.steps import TrainingStep

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

ROLE = "arn:aws:iam::111111111111:role/SageMakerRole"


@pytest.fixture
def sess(tmp_path):
    return PipelineSession(default_bucket="my-bucket", store=tmp_path / "store")


def _code_dir(tmp_path: Path, name: str, script: str) -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    (code / name).write_text(script)
    return code


# -- RLEstimator ------------------------------------------------------------------------------------


def _rl(sess, code, **kwargs):
    args = dict(
        entry_point="train.py",
        source_dir=str(code),
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=sess,
    )
    args.update(kwargs)
    return RLEstimator(**args)


def test_rl_estimator_records_the_toolkit_image_and_rl_hyperparameters(sess, tmp_path):
    code = _code_dir(tmp_path, "train.py", "print('episode')\n")
    est = _rl(
        sess,
        code,
        toolkit=RLToolkit.RAY,
        toolkit_version="0.8.5",
        framework=RLFramework.TENSORFLOW,
        hyperparameters={"episodes": 3},
        output_path="s3://my-bucket/rl-out",
    )
    step = TrainingStep(name="TrainRL", step_args=est.fit())
    args = json.loads(Pipeline(name="rl", steps=[step], sagemaker_session=sess).definition())["Steps"][0]["Arguments"]
    spec = args["AlgorithmSpecification"]
    assert (
        spec["TrainingImage"]
        == "462105765813.dkr.ecr.us-east-1.amazonaws.com/sagemaker-rl-ray-container:ray-0.8.5-tf-cpu-py36"
    )
    assert [m["Name"] for m in spec["MetricDefinitions"]] == ["episode_reward_mean", "episode_reward_max"]
    hps = args["HyperParameters"]
    assert hps["sagemaker_estimator"] == '"RLEstimator"'
    assert hps["sagemaker_s3_output"] == '"s3://my-bucket/rl-out"'
    assert hps["sagemaker_program"] == '"train.py"'
    assert hps["episodes"] == "3"
    assert est.framework_version == "2.1"


def test_rl_estimator_images_for_coach_and_given_image(sess, tmp_path):
    code = _code_dir(tmp_path, "train.py", "")
    coach = _rl(sess, code, toolkit=RLToolkit.COACH, toolkit_version="0.11.0", framework=RLFramework.MXNET)
    coach.instance_type = "ml.p3.2xlarge"
    assert coach.training_image_uri("us-west-2") == (
        "520713654638.dkr.ecr.us-west-2.amazonaws.com/sagemaker-rl-mxnet:coach0.11.0-gpu-py3"
    )
    assert [m["Name"] for m in coach.metric_definitions] == ["reward-training", "reward-testing"]
    own = _rl(sess, code, image_uri="111111111111.dkr.ecr.us-east-1.amazonaws.com/my-rl:1")
    assert own.training_image_uri() == "111111111111.dkr.ecr.us-east-1.amazonaws.com/my-rl:1"
    # Vowpal Wabbit has no RLToolkit; its image comes from the same table (image_uri= for RLEstimator).
    assert image_uris.retrieve("vw", "us-west-2", version="8.7.0", instance_type="ml.m5.xlarge") == (
        "462105765813.dkr.ecr.us-west-2.amazonaws.com/sagemaker-rl-vw-container:vw-8.7.0-cpu"
    )


def test_rl_estimator_argument_errors_match_the_sdk(sess, tmp_path):
    code = _code_dir(tmp_path, "train.py", "")
    with pytest.raises(AttributeError, match="Please provide `toolkit_version`, `framework` or `image_uri`"):
        _rl(sess, code, toolkit=RLToolkit.RAY)
    with pytest.raises(AttributeError, match="`coach-0.11.1` and `mxnet` combination is not supported"):
        _rl(sess, code, toolkit=RLToolkit.COACH, toolkit_version="0.11.1", framework=RLFramework.MXNET)
    with pytest.raises(ValueError, match="valid RL toolkits"):
        _rl(sess, code, toolkit="ray", toolkit_version="0.8.5", framework=RLFramework.TENSORFLOW)
    ray = _rl(sess, code, toolkit=RLToolkit.RAY, toolkit_version="1.6.0", framework=RLFramework.PYTORCH)
    _ = TrainingStep(name="Ray", step_args=ray.fit()).arguments  # fit() runs when the arguments are built
    with pytest.raises(NotImplementedError, match="Ray models"):
        ray.create_model()


def test_rl_estimator_create_model_follows_the_backend(sess, tmp_path):
    from sagepipe.model import FrameworkModel
    from sagepipe.mxnet import MXNetModel
    from sagepipe.tensorflow import TensorFlowModel

    code = _code_dir(tmp_path, "train.py", "")
    mx = _rl(sess, code, toolkit=RLToolkit.COACH, toolkit_version="0.11.0", framework=RLFramework.MXNET)
    _ = TrainingStep(name="Mx", step_args=mx.fit()).arguments
    model = mx.create_model()
    assert type(model) is MXNetModel
    assert (model.framework_version, model.py_version, model.entry_point) == ("1.3", "py3", "train.py")
    assert model.model_data == mx.model_data
    tf = _rl(sess, code, toolkit=RLToolkit.COACH, toolkit_version="0.11.1", framework=RLFramework.TENSORFLOW)
    _ = TrainingStep(name="Tf", step_args=tf.fit()).arguments
    assert type(tf.create_model()) is TensorFlowModel
    own = _rl(sess, code, image_uri="111111111111.dkr.ecr.us-east-1.amazonaws.com/my-rl:1")
    _ = TrainingStep(name="Own", step_args=own.fit()).arguments
    assert type(own.create_model()) is FrameworkModel
    with pytest.raises(AttributeError, match="provide an `entry_point`"):
        own.create_model(source_dir=str(code))


def test_rl_estimator_trains_locally_in_script_mode(sess, tmp_path):
    script = (
        "import json, os\n"
        "hps = json.load(open('/opt/ml/input/config/hyperparameters.json'))\n"
        "print('estimator', json.loads(hps['sagemaker_estimator']), 'episodes', hps['episodes'])\n"
        "open(os.path.join(os.environ['SM_MODEL_DIR'], 'policy.txt'), 'w').write('learned')\n"
    )
    code = _code_dir(tmp_path, "train.py", script)
    est = _rl(
        sess,
        code,
        toolkit=RLToolkit.COACH,
        toolkit_version="0.11.0",
        framework=RLFramework.TENSORFLOW,
        hyperparameters={"episodes": 2},
    )
    step = TrainingStep(name="TrainRL", step_args=est.fit())
    pipeline = Pipeline(name="rl-run", steps=[step], sagemaker_session=sess)
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    execution.wait()
    steps = {s["StepName"]: s for s in execution.list_steps()}
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", steps["TrainRL"].get("FailureReason")
    assert "estimator RLEstimator episodes 2" in execution.logs("TrainRL")


# -- Framework.transformer --------------------------------------------------------------------------


def test_framework_estimator_transformer_takes_the_sdk_framework_arguments(sess, tmp_path):
    from sagepipe.pytorch import PyTorch

    code = _code_dir(tmp_path, "train.py", "")
    est = PyTorch(
        entry_point="train.py",
        source_dir=str(code),
        framework_version="2.1",
        py_version="py310",
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=sess,
    )
    transformer = est.transformer(
        1,
        "ml.m5.xlarge",
        model_server_workers=2,
        entry_point="serve.py",
        volume_kms_key="volume-key",
        model_name="my-model",
    )
    assert transformer.model_name == "my-model"
    assert transformer.env == {}  # the SDK's Framework.transformer default
    assert transformer.volume_kms_key == "volume-key"
    with pytest.raises(ValueError, match="needs model_name="):
        est.transformer(1, "ml.m5.xlarge", model_server_workers=2)


# -- PipelineModel of framework models under CreateModelStep ------------------------------------------


def test_create_model_step_of_a_pipeline_model_uploads_each_framework_models_code(sess, tmp_path):
    """The code of a framework model goes to ``<bucket>/<image name>-<time>/sourcedir.tar.gz`` in the store."""
    import tarfile

    from sagepipe.inputs import CreateModelInput
    from sagepipe.model import FrameworkModel
    from sagepipe.pipeline import PipelineModel
    from sagepipe.sparkml import SparkMLModel
    from sagepipe.workflow.steps import CreateModelStep

    code = _code_dir(tmp_path, "serve.py", "def model_fn(d):\n    return None\n")
    framework = FrameworkModel(
        "s3://bucket/model_1.tar.gz", "mi-1", ROLE, str(code / "serve.py"), sagemaker_session=sess
    )
    sparkml = SparkMLModel(
        model_data="s3://bucket/model_2.tar.gz",
        role=ROLE,
        sagemaker_session=sess,
        env={"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"},
    )
    model = PipelineModel(models=[framework, sparkml], role=ROLE, sagemaker_session=sess)
    with pytest.warns(DeprecationWarning):
        step = CreateModelStep(name="Both", model=model, inputs=CreateModelInput(instance_type="ml.c4.4xlarge"))
    args = json.loads(Pipeline(name="pm", steps=[step], sagemaker_session=sess).definition())["Steps"][0]["Arguments"]
    first, second = args["Containers"]
    env = first["Environment"]
    assert env["SAGEMAKER_PROGRAM"] == "serve.py"
    assert env["SAGEMAKER_CONTAINER_LOG_LEVEL"] == "20" and env["SAGEMAKER_REGION"] == "us-east-1"
    assert first["Image"] == "mi-1" and first["ModelDataUrl"] == "s3://bucket/model_1.tar.gz"
    submit = env["SAGEMAKER_SUBMIT_DIRECTORY"]
    assert submit.startswith("s3://my-bucket/mi-1-") and submit.endswith("/sourcedir.tar.gz")
    with tarfile.open(sess.store.uri_to_path(submit)) as tar:
        assert tar.getnames() == ["serve.py"]
    assert second == {
        "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-sparkml-serving:3.3",
        "Environment": {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"},
        "ModelDataUrl": "s3://bucket/model_2.tar.gz",
    }


# -- repack with an s3:// source_dir --------------------------------------------------------------------


def _targz(path: Path, files: dict) -> bytes:
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_repack_with_an_s3_source_dir_reads_the_archive_from_the_store_and_runs(sess, tmp_path):
    import tarfile

    from sagepipe.pytorch import PyTorchModel
    from sagepipe.workflow.model_step import ModelStep

    code_uri = "s3://my-bucket/serving/sourcedir.tar.gz"
    sess.upload_string_as_file_body(
        body=_targz(tmp_path, {"inference.py": "def model_fn(d):\n    return d\n", "helpers/util.py": "X = 1\n"}),
        bucket="my-bucket",
        key="serving/sourcedir.tar.gz",
    )
    sess.upload_string_as_file_body(
        body=_targz(tmp_path, {"model.pkl": "weights"}), bucket="my-bucket", key="models/model.tar.gz"
    )
    from sagepipe.workflow.parameters import ParameterString

    # A pipeline variable as model_data: the repack runs as a step (a static one repacks at once).
    model_data = ParameterString(name="ModelData", default_value="s3://my-bucket/models/model.tar.gz")
    model = PyTorchModel(
        model_data=model_data,
        entry_point="inference.py",
        source_dir=code_uri,
        framework_version="2.1",
        py_version="py310",
        role=ROLE,
        sagemaker_session=sess,
    )
    step = ModelStep(name="Served", step_args=model.create(instance_type="ml.m5.xlarge"))
    pipeline = Pipeline(name="s3-code", parameters=[model_data], steps=[step], sagemaker_session=sess)
    repack = next(s for s in json.loads(pipeline.definition())["Steps"] if s["Name"] == "Served-RepackModel-0")
    hps = repack["Arguments"]["HyperParameters"]
    assert hps["sagemaker_submit_directory"] == json.dumps(code_uri)  # the SDK's: the archive itself
    assert hps["source_dir"] == json.dumps(code_uri)
    with tarfile.open(sess.store.uri_to_path(code_uri)) as tar:
        assert set(tar.getnames()) >= {
            "inference.py",
            "helpers/util.py",
            "_repack_model.py",
            "_repack_script_launcher.sh",
        }
    pipeline.upsert(role_arn=ROLE)
    execution = pipeline.start()
    execution.wait()
    steps = {s["StepName"]: s for s in execution.list_steps()}
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", {
        n: s.get("FailureReason") for n, s in steps.items()
    }
    records = {r["StepName"]: r for r in json.loads(sess.store.load_steps(execution.arn))}
    repacked = records["Served-RepackModel-0"]["Properties"]["ModelArtifacts"]["S3ModelArtifacts"]
    with tarfile.open(sess.store.uri_to_path(repacked)) as tar:
        assert {"model.pkl", "code/inference.py", "code/helpers/util.py"} <= set(tar.getnames())


def test_static_model_data_repacks_at_once_with_the_s3_source_dirs_files(sess, tmp_path):
    import tarfile

    from sagepipe.pytorch import PyTorchModel
    from sagepipe.workflow.model_step import ModelStep

    sess.upload_string_as_file_body(
        body=_targz(tmp_path, {"inference.py": "def model_fn(d):\n    return d\n", "../evil.py": "no"}),
        bucket="my-bucket",
        key="serving/sourcedir.tar.gz",
    )
    sess.upload_string_as_file_body(
        body=_targz(tmp_path, {"model.pkl": "weights"}), bucket="my-bucket", key="models/model.tar.gz"
    )
    model = PyTorchModel(
        model_data="s3://my-bucket/models/model.tar.gz",
        entry_point="inference.py",
        source_dir="s3://my-bucket/serving/sourcedir.tar.gz",
        framework_version="2.1",
        py_version="py310",
        role=ROLE,
        sagemaker_session=sess,
    )
    step = ModelStep(name="Served", step_args=model.create(instance_type="ml.m5.xlarge"))
    steps = json.loads(Pipeline(name="static", steps=[step], sagemaker_session=sess).definition())["Steps"]
    container = [s for s in steps if s["Name"] == "Served-CreateModel"][0]["Arguments"]["PrimaryContainer"]
    assert container["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code"
    with tarfile.open(sess.store.uri_to_path(container["ModelDataUrl"])) as tar:
        assert sorted(tar.getnames()) == ["code/inference.py", "model.pkl"]  # nothing outside code/


def test_repack_with_a_missing_s3_source_dir_fails_naming_the_step(sess):
    from sagepipe.workflow._utils import _RepackModelStep

    step = _RepackModelStep(
        name="Repack",
        sagemaker_session=sess,
        role=ROLE,
        model_data="s3://my-bucket/models/model.tar.gz",
        entry_point="inference.py",
        source_dir="s3://my-bucket/nowhere/sourcedir.tar.gz",
    )
    with pytest.raises(ValueError, match="Step Repack: the source_dir archive s3://my-bucket/nowhere/sourcedir.tar.gz"):
        _ = step.arguments


# -- SageMakerClarifyProcessor.run_* ----------------------------------------------------------------------


def _clarify(sess):
    from sagepipe.clarify import BiasConfig, DataConfig, ModelConfig, SageMakerClarifyProcessor, SHAPConfig

    data_config = DataConfig(
        s3_data_input_path="s3://my-bucket/clarify/train.csv",
        s3_output_path="s3://my-bucket/clarify/result",
        label="Label",
        headers=["Label", "F1", "F2"],
        dataset_type="text/csv",
    )
    bias = BiasConfig(label_values_or_threshold=[1], facet_name="F1", facet_values_or_threshold=[0.5])
    model = ModelConfig(model_name="my-model", instance_type="ml.c5.xlarge", instance_count=1, accept_type="text/csv")
    shap = SHAPConfig(baseline=[[0.5, 0.5]], num_samples=2, agg_method="mean_abs", seed=1)
    processor = SageMakerClarifyProcessor(
        role=ROLE, instance_type="ml.c5.xlarge", instance_count=1, sagemaker_session=sess
    )
    return processor, data_config, bias, model, shap


def _processing_args(sess, step_args):
    from sagepipe.workflow.steps import ProcessingStep

    step = ProcessingStep(name="Clarify", step_args=step_args)
    return json.loads(Pipeline(name="clarify", steps=[step], sagemaker_session=sess).definition())["Steps"][0][
        "Arguments"
    ]


def test_clarify_run_methods_build_processing_steps_with_the_stored_analysis_config(sess):
    from sagepipe.clarify import ModelPredictedLabelConfig

    processor, data_config, bias, model, shap = _clarify(sess)
    runs = {
        "bias": lambda: processor.run_bias(data_config=data_config, bias_config=bias, model_config=model),
        "pre": lambda: processor.run_pre_training_bias(data_config=data_config, data_bias_config=bias, methods=["CI"]),
        "post": lambda: processor.run_post_training_bias(
            data_config=data_config,
            data_bias_config=bias,
            model_config=model,
            model_predicted_label_config=ModelPredictedLabelConfig(probability_threshold=0.9),
        ),
        "explain": lambda: processor.run_explainability(
            data_config=data_config, model_config=model, explainability_config=shap
        ),
    }
    expected_methods = {
        "bias": {"report", "pre_training_bias", "post_training_bias"},
        "pre": {"report", "pre_training_bias"},
        "post": {"report", "post_training_bias"},
        "explain": {"report", "shap"},
    }
    for kind, run in runs.items():
        args = _processing_args(sess, run())
        assert args["AppSpecification"]["ImageUri"] == image_uris.retrieve("clarify", "us-east-1")
        data, config = args["ProcessingInputs"]
        assert (data["InputName"], config["InputName"]) == ("dataset", "analysis_config")
        assert data["S3Input"]["S3Uri"] == "s3://my-bucket/clarify/train.csv"
        assert data["S3Input"]["LocalPath"] == "/opt/ml/processing/input/data"
        assert config["S3Input"]["S3Uri"] == "s3://my-bucket/clarify/result/analysis_config.json"
        (output,) = args["ProcessingOutputConfig"]["Outputs"]
        assert output["OutputName"] == "analysis_result"
        assert output["S3Output"] == {
            "S3Uri": "s3://my-bucket/clarify/result",
            "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob",
        }
        # Each run stores its config when called (as the SDK uploads it), replacing the previous one.
        stored = json.loads(sess.read_s3_file("my-bucket", "clarify/result/analysis_config.json"))
        assert set(stored["methods"]) == expected_methods[kind], kind
        assert stored["label"] == "Label"
        assert ("facet" in stored) == (kind != "explain")
    assert stored["predictor"]["model_name"] == "my-model"
    assert stored["methods"]["shap"]["num_samples"] == 2


def test_clarify_argument_errors_match_the_sdk(sess):
    from sagepipe.clarify import PDPConfig

    processor, data_config, bias, model, shap = _clarify(sess)
    with pytest.raises(ValueError, match="model_config must be provided when `predicted_label_dataset_uri`"):
        processor.run_post_training_bias(data_config=data_config, data_bias_config=bias)
    with pytest.raises(ValueError, match="PDP features must be provided"):
        processor.run_explainability(data_config=data_config, model_config=model, explainability_config=PDPConfig())
    with pytest.raises(ValueError, match="Duplicate explainability configs"):
        processor.run_explainability(data_config=data_config, model_config=model, explainability_config=[shap, shap])
    with pytest.raises(NotImplementedError, match="run_pre_training_bias"):
        processor.run()


def test_a_clarify_processing_step_fails_before_running_naming_the_step_and_image(sess):
    from sagepipe.exceptions import UnsupportedStepError
    from sagepipe.workflow.steps import ProcessingStep

    processor, data_config, bias, _, _ = _clarify(sess)
    step = ProcessingStep(name="PreBias", step_args=processor.run_pre_training_bias(data_config, bias))
    pipeline = Pipeline(name="clarify-run", steps=[step], sagemaker_session=sess)
    pipeline.upsert(role_arn=ROLE)
    with pytest.raises(UnsupportedStepError) as raised:
        pipeline.start()
    message = str(raised.value)
    assert "step 'PreBias' runs image" in message and "sagemaker-clarify-processing:1.0" in message
    assert "no local runner is registered for that image" in message
    assert pipeline.list_executions()["PipelineExecutionSummaries"] == []


# -- SageMaker config defaults for isolation and encryption ---------------------------------------------


def _config_session(tmp_path, training: dict, model: dict):
    config = {"SchemaVersion": "1.0", "SageMaker": {"TrainingJob": training, "Model": model}}
    return PipelineSession(default_bucket="my-bucket", store=tmp_path / "store", sagemaker_config=config)


def test_config_isolation_and_encryption_defaults_apply_unless_given(tmp_path):
    from sagepipe.estimator import Estimator
    from sagepipe.model import Model
    from sagepipe.workflow.model_step import ModelStep

    sess = _config_session(
        tmp_path,
        {"EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True},
        {"EnableNetworkIsolation": True},
    )

    def estimator(**kwargs):
        return Estimator(
            image_uri="111111111111.dkr.ecr.us-east-1.amazonaws.com/algo:1",
            role=ROLE,
            instance_type="ml.m5.xlarge",
            instance_count=1,
            sagemaker_session=sess,
            **kwargs,
        )

    defaulted = TrainingStep(name="Defaulted", step_args=estimator().fit("s3://my-bucket/train"))
    explicit = TrainingStep(
        name="Explicit",
        step_args=estimator(enable_network_isolation=False, encrypt_inter_container_traffic=False).fit(
            "s3://my-bucket/train"
        ),
    )
    model = Model(image_uri="img", model_data="s3://my-bucket/model.tar.gz", role=ROLE, sagemaker_session=sess)
    create = ModelStep(name="M", step_args=model.create(instance_type="ml.m5.large"))
    own = Model(
        image_uri="img",
        model_data="s3://my-bucket/model.tar.gz",
        role=ROLE,
        sagemaker_session=sess,
        enable_network_isolation=False,
    )
    create_own = ModelStep(name="Own", step_args=own.create(instance_type="ml.m5.large"))
    pipeline = Pipeline(name="cfg", steps=[defaulted, explicit, create, create_own], sagemaker_session=sess)
    steps = {s["Name"]: s["Arguments"] for s in json.loads(pipeline.definition())["Steps"]}
    assert steps["Defaulted"]["EnableNetworkIsolation"] is True
    assert steps["Defaulted"]["EnableInterContainerTrafficEncryption"] is True
    assert "EnableNetworkIsolation" not in steps["Explicit"]
    # The SDK's Session.train fills encryption from the config when the estimator's value is falsy, so
    # an explicit False still comes out True under step_args (observed with SDK 2.257.7).
    assert steps["Explicit"]["EnableInterContainerTrafficEncryption"] is True
    assert steps["M-CreateModel"]["EnableNetworkIsolation"] is True
    assert "EnableNetworkIsolation" not in steps["Own-CreateModel"]
    assert model.enable_network_isolation() is True and own.enable_network_isolation() is False


def test_register_model_of_a_hugging_face_estimator_records_its_inference_image(tmp_path):
    """Regression: the registration looked the image up without the model's base framework
    (``ValueError: Unsupported base framework: None``; SDK 2.257.7 fails the same way). It now asks
    the model for its serving image, as a ModelStep of the same model does."""
    from sagepipe.huggingface import HuggingFace
    from sagepipe.workflow.step_collections import RegisterModel

    session = PipelineSession(store=tmp_path / "store")
    estimator = HuggingFace(
        entry_point="train.py",
        transformers_version="4.26.0",
        pytorch_version="1.13.1",
        py_version="py39",
        role="arn:aws:iam::111111111111:role/R",
        instance_type="ml.p3.2xlarge",
        instance_count=1,
        sagemaker_session=session,
    )
    register = RegisterModel(
        name="Register",
        estimator=estimator,
        model_data="s3://my-bucket/model.tar.gz",
        content_types=["application/json"],
        response_types=["application/json"],
        inference_instances=["ml.p3.2xlarge"],
        transform_instances=["ml.p3.2xlarge"],
        model_package_group_name="group",
    )
    (container,) = register.steps[0].arguments["InferenceSpecification"]["Containers"]
    assert container["Image"].endswith(
        "/huggingface-pytorch-inference:1.13.1-transformers4.26.0-gpu-py39-cu117-ubuntu20.04"
    )
