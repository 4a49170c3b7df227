"""Pipelines of framework estimators and models, built with the SDK or with sagepipe.

``build(sm, sess)`` takes the package to import from (``"sagemaker"`` or ``"sagepipe"``), so the
same code produces ``fixtures/frameworks/definition.json`` under the real SDK (run by
``fixtures/frameworks/gen_frameworks.py``) and the definition the tests compare with it. Code paths
are relative to ``fixtures/frameworks``: callers chdir there first (as the generator does).
"""

import importlib
from pathlib import Path

FRAMEWORKS_DIR = Path(__file__).parent / "fixtures" / "frameworks"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
PACKAGE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3"


def _importer(sm: str):
    return lambda module, *names: [getattr(importlib.import_module(f"{sm}.{module}"), n) for n in names]


def build(sm: str, sess):
    """Every framework class in one pipeline: training steps, model steps (create/register), a transform."""
    imp = _importer(sm)
    (PyTorch, PyTorchModel) = imp("pytorch", "PyTorch", "PyTorchModel")
    (TensorFlow, TensorFlowModel) = imp("tensorflow", "TensorFlow", "TensorFlowModel")
    (HuggingFace, HuggingFaceModel) = imp("huggingface", "HuggingFace", "HuggingFaceModel")
    (MXNet, MXNetModel) = imp("mxnet", "MXNet", "MXNetModel")
    (Chainer, ChainerModel) = imp("chainer", "Chainer", "ChainerModel")
    (SKLearnModel,) = imp("sklearn", "SKLearnModel")
    (XGBoostModel,) = imp("xgboost", "XGBoostModel")
    (SparkMLModel,) = imp("sparkml.model", "SparkMLModel")
    (PipelineModel,) = imp("pipeline", "PipelineModel")
    (ModelPackage,) = imp("model", "ModelPackage")
    (TrainingInput,) = imp("inputs", "TrainingInput")
    (Transformer,) = imp("transformer", "Transformer")
    (ModelStep,) = imp("workflow.model_step", "ModelStep")
    (ParameterString,) = imp("workflow.parameters", "ParameterString")
    (Pipeline,) = imp("workflow.pipeline", "Pipeline")
    (TrainingStep, TransformStep) = imp("workflow.steps", "TrainingStep", "TransformStep")
    (RegisterModel,) = imp("workflow.step_collections", "RegisterModel")

    train_data = ParameterString(name="TrainData", default_value="s3://my-bucket/fw/train")
    batch_data = ParameterString(name="BatchData", default_value="s3://my-bucket/fw/batch")
    common = dict(role=ROLE, instance_type="ml.m5.xlarge", instance_count=1, sagemaker_session=sess)
    inputs = {"train": TrainingInput(s3_data=train_data, content_type="text/csv")}

    torch_est = PyTorch(
        entry_point="train.py",
        source_dir="code/train",
        framework_version="2.1",
        py_version="py310",
        hyperparameters={"fit-intercept": 1},
        **common,
    )
    train_torch = TrainingStep(name="TrainTorch", step_args=torch_est.fit(inputs))
    torch_model = PyTorchModel(
        model_data=train_torch.properties.ModelArtifacts.S3ModelArtifacts,
        entry_point="inference.py",
        source_dir="code/serve",
        framework_version="2.1",
        py_version="py310",
        role=ROLE,
        sagemaker_session=sess,
    )
    torch_create = ModelStep(name="TorchModel", step_args=torch_model.create(instance_type="ml.m5.xlarge"))
    transformer = Transformer(
        model_name=torch_create.properties.ModelName,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        output_path="s3://my-bucket/fw/predictions",
        sagemaker_session=sess,
    )
    transform = TransformStep(
        name="BatchTorch", step_args=transformer.transform(data=batch_data, content_type="text/csv")
    )
    torch_register = ModelStep(
        name="RegisterTorch",
        step_args=torch_model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.xlarge"],
            transform_instances=["ml.m5.xlarge"],
            model_package_group_name="torch-models",
            approval_status="PendingManualApproval",
        ),
    )

    tf_est = TensorFlow(
        entry_point="train.py",
        source_dir="code/train",
        framework_version="2.13",
        py_version="py310",
        distribution={"multi_worker_mirrored_strategy": {"enabled": True}},
        **common,
    )
    train_tf = TrainingStep(name="TrainTF", step_args=tf_est.fit(inputs))
    tf_model = TensorFlowModel(
        model_data=train_tf.properties.ModelArtifacts.S3ModelArtifacts,
        entry_point="inference.py",
        source_dir="code/serve",
        framework_version="2.13",
        role=ROLE,
        sagemaker_session=sess,
    )
    tf_register = ModelStep(
        name="RegisterTF",
        step_args=tf_model.register(
            content_types=["application/json"],
            response_types=["application/json"],
            inference_instances=["ml.c5.xlarge"],
            transform_instances=["ml.c5.xlarge"],
            model_package_group_name="tf-models",
        ),
    )

    hf_est = HuggingFace(
        entry_point="train.py",
        source_dir="code/train",
        transformers_version="4.26",
        pytorch_version="1.13",
        py_version="py39",
        role=ROLE,
        instance_type="ml.p3.2xlarge",
        instance_count=1,
        sagemaker_session=sess,
        distribution={"mpi": {"enabled": True, "processes_per_host": 2}},
    )
    train_hf = TrainingStep(name="TrainHF", step_args=hf_est.fit(inputs))
    hf_model = HuggingFaceModel(
        model_data=train_hf.properties.ModelArtifacts.S3ModelArtifacts,
        entry_point="inference.py",
        source_dir="code/serve",
        transformers_version="4.26",
        pytorch_version="1.13",
        py_version="py39",
        role=ROLE,
        sagemaker_session=sess,
    )
    hf_create = ModelStep(name="HFModel", step_args=hf_model.create(instance_type="ml.g4dn.xlarge"))

    mx_est = MXNet(
        entry_point="train.py",
        source_dir="code/train",
        framework_version="1.8",
        py_version="py37",
        distribution={"parameter_server": {"enabled": True}},
        **common,
    )
    train_mx = TrainingStep(name="TrainMX", step_args=mx_est.fit(inputs))
    mx_model = MXNetModel(
        model_data=train_mx.properties.ModelArtifacts.S3ModelArtifacts,
        entry_point="inference.py",
        source_dir="code/serve",
        framework_version="1.8",
        py_version="py37",
        model_server_workers=2,
        role=ROLE,
        sagemaker_session=sess,
    )
    mx_create = ModelStep(name="MXModel", step_args=mx_model.create(instance_type="ml.c5.xlarge"))

    chainer_est = Chainer(
        entry_point="train.py",
        source_dir="code/train",
        framework_version="5.0",
        py_version="py3",
        use_mpi=True,
        num_processes=2,
        **common,
    )
    train_chainer = TrainingStep(name="TrainChainer", step_args=chainer_est.fit(inputs))
    chainer_model = ChainerModel(
        model_data=train_chainer.properties.ModelArtifacts.S3ModelArtifacts,
        entry_point="inference.py",
        source_dir="code/serve",
        framework_version="5.0",
        py_version="py3",
        role=ROLE,
        sagemaker_session=sess,
    )
    chainer_create = ModelStep(name="ChainerModel", step_args=chainer_model.create(instance_type="ml.m5.xlarge"))

    sk_model = SKLearnModel(
        model_data="s3://my-bucket/fw/sklearn/model.tar.gz",
        entry_point="inference.py",
        source_dir="code/serve",
        framework_version="1.2-1",
        role=ROLE,
        sagemaker_session=sess,
    )
    spark_model = SparkMLModel(
        model_data="s3://my-bucket/fw/spark/model.tar.gz", role=ROLE, sagemaker_session=sess, name="spark"
    )
    inference_pipeline = PipelineModel(models=[spark_model, sk_model], role=ROLE, sagemaker_session=sess)
    pipeline_create = ModelStep(
        name="InferencePipeline", step_args=inference_pipeline.create(instance_type="ml.m5.xlarge")
    )
    xgb_model = XGBoostModel(
        model_data=train_torch.properties.ModelArtifacts.S3ModelArtifacts,
        entry_point="inference.py",
        source_dir="code/serve",
        framework_version="1.7-1",
        role=ROLE,
        sagemaker_session=sess,
    )
    xgb_register = ModelStep(
        name="RegisterXGB",
        step_args=xgb_model.register(
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.xlarge"],
            transform_instances=["ml.m5.xlarge"],
            model_package_group_name="xgb-models",
        ),
    )
    legacy_register = RegisterModel(
        name="RegisterPipelineModel",
        model=PipelineModel(models=[sk_model], role=ROLE, sagemaker_session=sess),
        content_types=["text/csv"],
        response_types=["text/csv"],
        inference_instances=["ml.m5.xlarge"],
        transform_instances=["ml.m5.xlarge"],
        model_package_group_name="pipeline-models",
    )
    package_model = ModelPackage(role=ROLE, model_package_arn=PACKAGE_ARN, sagemaker_session=sess)
    package_create = ModelStep(name="FromPackage", step_args=package_model.create(instance_type="ml.m5.xlarge"))

    return Pipeline(
        name="frameworks",
        parameters=[train_data, batch_data],
        steps=[
            train_torch,
            torch_create,
            transform,
            torch_register,
            train_tf,
            tf_register,
            train_hf,
            hf_create,
            train_mx,
            mx_create,
            train_chainer,
            chainer_create,
            pipeline_create,
            xgb_register,
            legacy_register,
            package_create,
        ],
        sagemaker_session=sess,
    )
