"""Airflow operator configs (mirror of ``sagemaker.workflow.airflow``).

Each ``*_config`` function returns the dict an Airflow SageMaker operator takes (the service's
``Create*`` request, plus ``S3Operations`` for code the operator uploads first), built from the
same estimator, model, transformer, tuner and processor objects as a pipeline, with the same
values as the SDK. Nothing runs and nothing is uploaded here: Airflow templates
(``"{{ ... }}"``) are carried through as strings.
"""

import os
import re

from sagepipe import s3, utils
from sagepipe._endpoint_requests import production_variant
from sagepipe._job_requests import _expand_container_def, container_def
from sagepipe.amazon.amazon_estimator import AmazonAlgorithmEstimatorBase, RecordSet
from sagepipe.estimator import Estimator, EstimatorBase, Framework, _load_config
from sagepipe.fw_utils import UploadedCode
from sagepipe.model import (
    CONTAINER_LOG_LEVEL_PARAM_NAME,
    DIR_PARAM_NAME,
    JOB_NAME_PARAM_NAME,
    MODEL_SERVER_WORKERS_PARAM_NAME,
    SAGEMAKER_REGION_PARAM_NAME,
    SCRIPT_PARAM_NAME,
)
from sagepipe.processing import Processor
from sagepipe.utils import format_tags

__all__ = [
    "deploy_config",
    "deploy_config_from_estimator",
    "model_config",
    "model_config_from_estimator",
    "prepare_amazon_algorithm_estimator",
    "prepare_framework",
    "processing_config",
    "training_base_config",
    "training_config",
    "transform_config",
    "transform_config_from_estimator",
    "tuning_config",
]


def _optional_class(module: str, name: str):
    """A class that may not be mirrored (yet): matched with ``isinstance`` only when present."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return ()


def prepare_framework(estimator, s3_operations):
    """Point a framework estimator at its ``sourcedir.tar.gz`` and list the upload to make.

    Args:
        estimator (sagepipe.estimator.Framework): The framework estimator.
        s3_operations (dict): Receives the ``S3Upload`` operation of the code.
    """
    if estimator.code_location is not None:
        bucket, key = s3.parse_s3_url(estimator.code_location)
        key = s3.s3_path_join(key, estimator._current_job_name, "source", "sourcedir.tar.gz")
    elif estimator.uploaded_code is not None:
        bucket, key = s3.parse_s3_url(estimator.uploaded_code.s3_prefix)
    else:
        bucket = estimator.sagemaker_session.default_bucket
        key = s3.s3_path_join(
            estimator.sagemaker_session.default_bucket_prefix,
            estimator._current_job_name,
            "source",
            "sourcedir.tar.gz",
        )
    script = os.path.basename(estimator.entry_point)
    if estimator.source_dir and estimator.source_dir.lower().startswith("s3://"):
        code_dir = estimator.source_dir
    else:
        code_dir = f"s3://{bucket}/{key}"
        s3_operations["S3Upload"] = [
            {"Path": estimator.source_dir or estimator.entry_point, "Bucket": bucket, "Key": key, "Tar": True}
        ]
    estimator.uploaded_code = UploadedCode(s3_prefix=code_dir, script_name=script)
    estimator._hyperparameters[DIR_PARAM_NAME] = code_dir
    estimator._hyperparameters[SCRIPT_PARAM_NAME] = script
    estimator._hyperparameters[CONTAINER_LOG_LEVEL_PARAM_NAME] = estimator.container_log_level
    estimator._hyperparameters[JOB_NAME_PARAM_NAME] = estimator._current_job_name
    estimator._hyperparameters[SAGEMAKER_REGION_PARAM_NAME] = estimator.sagemaker_session.boto_region_name


def prepare_amazon_algorithm_estimator(estimator, inputs, mini_batch_size=None):
    """Set ``feature_dim`` (from the train record set) and ``mini_batch_size`` of an algorithm estimator.

    Raises:
        TypeError: ``inputs`` is not a RecordSet or a list of them.
    """
    if isinstance(inputs, list):
        for record in inputs:
            if isinstance(record, RecordSet) and record.channel == "train":
                estimator.feature_dim = record.feature_dim
                break
    elif isinstance(inputs, RecordSet):
        estimator.feature_dim = inputs.feature_dim
    else:
        raise TypeError("Training data must be represented in RecordSet or list of RecordSets")
    estimator.mini_batch_size = mini_batch_size


def training_base_config(estimator, inputs=None, job_name=None, mini_batch_size=None):
    """The training job config shared by training and tuning operators.

    Args:
        estimator (sagepipe.estimator.EstimatorBase): The estimator.
        inputs: The training data, as for ``fit()`` (record sets for algorithm estimators).
        job_name (str): The job name (default: generated from the base job name).
        mini_batch_size (int): The mini-batch size of an algorithm estimator.

    Returns:
        dict: The config (``S3Operations`` lists the code upload of a framework estimator).
    """
    if isinstance(estimator, AmazonAlgorithmEstimatorBase):
        estimator.prepare_workflow_for_training(records=inputs, mini_batch_size=mini_batch_size, job_name=job_name)
    else:
        estimator.prepare_workflow_for_training(job_name=job_name)
    s3_operations = {}
    if job_name is not None:
        estimator._current_job_name = job_name
    else:
        base_name = estimator.base_job_name or utils.base_name_from_image(
            estimator.training_image_uri(), default_base_name=EstimatorBase.JOB_CLASS_NAME
        )
        estimator._current_job_name = utils.name_from_base(base_name)
    if estimator.output_path is None:
        estimator.output_path = s3.s3_path_join(
            "s3://",
            estimator.sagemaker_session.default_bucket(),
            estimator.sagemaker_session.default_bucket_prefix,
            with_end_slash=True,
        )
    if isinstance(estimator, Framework):
        prepare_framework(estimator, s3_operations)
    elif isinstance(estimator, AmazonAlgorithmEstimatorBase):
        prepare_amazon_algorithm_estimator(estimator, inputs, mini_batch_size)
    job_config = _load_config(inputs, estimator, expand_role=False, validate_uri=False)
    train_config = {
        "AlgorithmSpecification": {
            "TrainingImage": estimator.training_image_uri(),
            "TrainingInputMode": estimator.input_mode,
        },
        "OutputDataConfig": job_config["output_config"],
        "StoppingCondition": job_config["stop_condition"],
        "ResourceConfig": job_config["resource_config"],
        "RoleArn": job_config["role"],
    }
    if job_config["input_config"] is not None:
        train_config["InputDataConfig"] = job_config["input_config"]
    if job_config["vpc_config"] is not None:
        train_config["VpcConfig"] = job_config["vpc_config"]
    if estimator.use_spot_instances:
        train_config["EnableManagedSpotTraining"] = estimator.use_spot_instances
    hyperparameters = {str(k): str(v) for k, v in (estimator.hyperparameters() or {}).items()}
    if hyperparameters:
        train_config["HyperParameters"] = hyperparameters
    if s3_operations:
        train_config["S3Operations"] = s3_operations
    if estimator.checkpoint_local_path is not None and estimator.checkpoint_s3_uri is not None:
        train_config["CheckpointConfig"] = {
            "LocalPath": estimator.checkpoint_local_path,
            "S3Uri": estimator.checkpoint_s3_uri,
        }
    return train_config


def training_config(estimator, inputs=None, job_name=None, mini_batch_size=None):
    """The config of an Airflow ``SageMakerTrainingOperator``: a ``CreateTrainingJob`` request.

    Args:
        estimator (sagepipe.estimator.EstimatorBase): The estimator.
        inputs: The training data, as for ``fit()``.
        job_name (str): The job name (default: generated from the base job name).
        mini_batch_size (int): The mini-batch size of an algorithm estimator.
    """
    train_config = training_base_config(estimator, inputs, job_name, mini_batch_size)
    train_config["TrainingJobName"] = estimator._current_job_name
    if estimator.tags is not None:
        train_config["Tags"] = estimator.tags
    if estimator.metric_definitions is not None:
        train_config["AlgorithmSpecification"]["MetricDefinitions"] = estimator.metric_definitions
    return train_config


def tuning_config(tuner, inputs, job_name=None, include_cls_metadata=False, mini_batch_size=None):
    """The config of an Airflow ``SageMakerTuningOperator`` (a tuner with one estimator).

    Args:
        tuner (sagepipe.tuner.HyperparameterTuner): The tuner.
        inputs: The training data, as for ``fit()``.
        job_name (str): The tuning job name (default: generated).
        include_cls_metadata (bool): Add the estimator class and module as static hyperparameters.
        mini_batch_size (int): The mini-batch size of an algorithm estimator.

    Raises:
        NotImplementedError: A tuner built from several estimators (``HyperparameterTuner.create``)
            or of a built-in algorithm estimator.
    """
    if getattr(tuner, "estimator", None) is None:
        raise NotImplementedError("tuning_config of a multi-estimator tuner is not supported by sagepipe yet")
    if isinstance(tuner.estimator, AmazonAlgorithmEstimatorBase):
        # The tuner prepares its estimator again, without the records an algorithm estimator needs.
        raise NotImplementedError(
            "tuning_config of a built-in algorithm estimator is not supported by sagepipe yet "
            "(its HyperparameterTuner does not prepare RecordSet inputs)"
        )
    train_config = training_base_config(tuner.estimator, inputs, mini_batch_size=mini_batch_size)
    train_config.pop("HyperParameters", None)
    s3_operations = train_config.pop("S3Operations", None)
    # The tuner names the job and takes the estimator's hyperparameters minus the tuned ones.
    tuner._prepare_for_tuning(job_name, include_cls_metadata)
    train_config["StaticHyperParameters"] = tuner.static_hyperparameters
    if tuner.metric_definitions:
        train_config["AlgorithmSpecification"]["MetricDefinitions"] = tuner.metric_definitions
    job_config = {
        "Strategy": tuner.strategy,
        "ResourceLimits": {
            "MaxNumberOfTrainingJobs": tuner.max_jobs,
            "MaxParallelTrainingJobs": tuner.max_parallel_jobs,
        },
        "TrainingJobEarlyStoppingType": tuner.early_stopping_type,
    }
    if tuner.objective_metric_name:
        job_config["HyperParameterTuningJobObjective"] = {
            "Type": tuner.objective_type,
            "MetricName": tuner.objective_metric_name,
        }
    parameter_ranges = tuner.hyperparameter_ranges()
    if parameter_ranges:
        job_config["ParameterRanges"] = parameter_ranges
    tune_config = {
        "HyperParameterTuningJobName": tuner._current_job_name,
        "HyperParameterTuningJobConfig": job_config,
        "TrainingJobDefinition": train_config,
    }
    if s3_operations:
        tune_config["S3Operations"] = s3_operations
    if tuner.tags:
        tune_config["Tags"] = tuner.tags
    if tuner.warm_start_config:
        tune_config["WarmStartConfig"] = tuner.warm_start_config.to_input_req()
    return tune_config


def _merge_s3_operations(s3_operations_list):
    """Merge ``S3Operations`` dicts, keeping each operation once, in order."""
    merged = {}
    for s3_operations in s3_operations_list:
        for key, operations in s3_operations.items():
            bucket = merged.setdefault(key, [])
            for operation in operations:
                if operation not in bucket:
                    bucket.append(operation)
    return merged


def update_submit_s3_uri(estimator, job_name):
    """Put ``job_name`` into the ``.../<job>/source/sourcedir.tar.gz`` code URI of a framework estimator."""
    if estimator.uploaded_code is None:
        return
    submit_uri = re.sub(r"(?<=/)[^/]+?(?=/source/sourcedir.tar.gz)", job_name, estimator.uploaded_code.s3_prefix)
    estimator.uploaded_code = UploadedCode(submit_uri, estimator.uploaded_code.script_name)


def update_estimator_from_task(estimator, task_id, task_type):
    """Point the estimator at the training job of an upstream Airflow task (an XCom template).

    Args:
        estimator: The estimator.
        task_id (str): The upstream task.
        task_type (str): ``training``, ``tuning`` (its best training job) or None (no change).

    Raises:
        ValueError: Another ``task_type``.
    """
    if task_type is None:
        return
    pull = f"ti.xcom_pull(task_ids='{task_id}')"
    if task_type.lower() == "training":
        training_job = "{{ " + pull + "['Training']['TrainingJobName'] }}"
        job_name = training_job
    elif task_type.lower() == "tuning":
        training_job = "{{ " + pull + "['Tuning']['BestTrainingJob']['TrainingJobName'] }}"
        # The tuning job's name, as the code URI of its training jobs holds it.
        job_name = "{{ " + pull + "['Tuning']['TrainingJobDefinition']['StaticHyperParameters']"
        job_name += "['sagemaker_job_name'].strip('\"') }}"
    else:
        raise ValueError("task_type must be either 'training', 'tuning' or None.")
    estimator._current_job_name = training_job
    if isinstance(estimator, Framework):
        update_submit_s3_uri(estimator, job_name)


def prepare_framework_container_def(model, instance_type, s3_operations):
    """The container definition of a framework model, listing its code upload in ``s3_operations``."""
    deploy_image = model.image_uri
    if not deploy_image:
        deploy_image = model.serving_image_uri(model.sagemaker_session.boto_session.region_name, instance_type)
    model.name = model.name or utils.name_from_base(utils.base_name_from_image(deploy_image))
    bucket, key_prefix = s3.determine_bucket_and_prefix(
        bucket=model.bucket, key_prefix=None, sagemaker_session=model.sagemaker_session
    )
    if model.entry_point is not None:
        script = os.path.basename(model.entry_point)
        key = f"{model.name}/source/sourcedir.tar.gz"
        if model.source_dir and model.source_dir.lower().startswith("s3://"):
            code_dir = model.source_dir
        else:
            code_dir = s3.s3_path_join("s3://", bucket, key_prefix, key)
            upload = {"Path": model.source_dir or script, "Bucket": bucket, "Key": key, "Tar": True}
            s3_operations["S3Upload"] = [upload]
        model.uploaded_code = UploadedCode(s3_prefix=code_dir, script_name=script)
    deploy_env = dict(model.env)
    deploy_env.update(model._script_mode_env_vars())
    workers = getattr(model, "model_server_workers", None)
    if workers:
        deploy_env[MODEL_SERVER_WORKERS_PARAM_NAME.upper()] = str(workers)
    return container_def(deploy_image, model.model_data, deploy_env)


def model_config(model, instance_type=None, role=None, image_uri=None):
    """The config of an Airflow ``SageMakerModelOperator``: a ``CreateModel`` request.

    Args:
        model (sagepipe.model.Model): The model.
        instance_type (str): The instance type (selects a framework model's image).
        role (str): The execution role (default: the model's).
        image_uri (str): The image (default: the model's).
    """
    s3_operations = {}
    model.image_uri = image_uri or model.image_uri
    framework_model = _optional_class("sagepipe.model", "FrameworkModel")
    if framework_model and isinstance(model, framework_model):
        c_def = prepare_framework_container_def(model, instance_type, s3_operations)
    else:
        c_def = model.prepare_container_def()
        model.name = model.name or utils.name_from_base(utils.base_name_from_image(c_def["Image"]))
    config = {
        "ModelName": model.name,
        "PrimaryContainer": _expand_container_def(c_def),
        "ExecutionRoleArn": role or model.role,
    }
    if model.vpc_config:
        config["VpcConfig"] = model.vpc_config
    if s3_operations:
        config["S3Operations"] = s3_operations
    return config


def model_config_from_estimator(
    estimator,
    task_id,
    task_type,
    instance_type=None,
    role=None,
    image_uri=None,
    name=None,
    model_server_workers=None,
    vpc_config_override="VPC_CONFIG_DEFAULT",
):
    """The ``CreateModel`` config of the model an upstream training or tuning task produces.

    Args:
        estimator: The estimator of that task.
        task_id (str): The upstream task.
        task_type (str): ``training``, ``tuning`` or None (the estimator's current job).
        instance_type, role, image_uri, name: As for :func:`model_config`.
        model_server_workers (int): Model server workers of a framework model.
        vpc_config_override (dict): VPC config of the model (default: the estimator's).

    Raises:
        TypeError: The estimator is not an ``Estimator``, ``Framework`` or algorithm estimator.
    """
    update_estimator_from_task(estimator, task_id, task_type)
    tensorflow = _optional_class("sagepipe.tensorflow", "TensorFlow")
    if isinstance(estimator, Estimator):
        model = estimator.create_model(role=role, image_uri=image_uri, vpc_config_override=vpc_config_override)
    elif isinstance(estimator, AmazonAlgorithmEstimatorBase):
        model = estimator.create_model(vpc_config_override=vpc_config_override)
    elif tensorflow and isinstance(estimator, tensorflow):
        model = estimator.create_model(
            role=role, vpc_config_override=vpc_config_override, entry_point=estimator.entry_point
        )
    elif isinstance(estimator, Framework):
        model = estimator.create_model(
            model_server_workers=model_server_workers,
            role=role,
            vpc_config_override=vpc_config_override,
            entry_point=estimator.entry_point,
        )
    else:
        raise TypeError(
            "Estimator must be one of sagemaker.estimator.Estimator, sagemaker.estimator.Framework"
            " or sagemaker.amazon.amazon_estimator.AmazonAlgorithmEstimatorBase."
        )
    model.name = name
    return model_config(model, instance_type, role, image_uri)


def transform_config(
    transformer,
    data,
    data_type="S3Prefix",
    content_type=None,
    compression_type=None,
    split_type=None,
    job_name=None,
    input_filter=None,
    output_filter=None,
    join_source=None,
):
    """The config of an Airflow ``SageMakerTransformOperator``: a ``CreateTransformJob`` request.

    Args:
        transformer (sagepipe.transformer.Transformer): The transformer.
        data (str): The input's S3 URI.
        data_type, content_type, compression_type, split_type: Of the input, as for ``transform()``.
        job_name (str): The job name (default: from the base job name, else the model name).
        input_filter, output_filter, join_source: The ``DataProcessing`` of the job.
    """
    from sagepipe.transformer import _TransformJob

    if job_name is not None:
        transformer._current_job_name = job_name
    else:
        base_name = transformer.base_transform_job_name
        transformer._current_job_name = (
            utils.name_from_base(base_name) if base_name is not None else transformer.model_name
        )
    if transformer.output_path is None:
        transformer.output_path = s3.s3_path_join(
            "s3://",
            transformer.sagemaker_session.default_bucket(),
            transformer.sagemaker_session.default_bucket_prefix,
            transformer._current_job_name,
        )
    request = _TransformJob._get_transform_args(
        transformer,
        data,
        data_type,
        content_type,
        compression_type,
        split_type,
        input_filter,
        output_filter,
        join_source,
        None,
        None,
        None,
    )
    config = {
        "TransformJobName": transformer._current_job_name,
        "ModelName": transformer.model_name,
        "TransformInput": request["input_config"],
        "TransformOutput": request["output_config"],
        "TransformResources": request["resource_config"],
    }
    if request["data_processing"] is not None:
        config["DataProcessing"] = request["data_processing"]
    for key, value in (
        ("BatchStrategy", transformer.strategy),
        ("MaxConcurrentTransforms", transformer.max_concurrent_transforms),
        ("MaxPayloadInMB", transformer.max_payload),
        ("Environment", transformer.env),
        ("Tags", transformer.tags),
    ):
        if value is not None:
            config[key] = value
    return config


def transform_config_from_estimator(
    estimator,
    task_id,
    task_type,
    instance_count,
    instance_type,
    data,
    data_type="S3Prefix",
    content_type=None,
    compression_type=None,
    split_type=None,
    job_name=None,
    model_name=None,
    strategy=None,
    assemble_with=None,
    output_path=None,
    output_kms_key=None,
    accept=None,
    env=None,
    max_concurrent_transforms=None,
    max_payload=None,
    tags=None,
    role=None,
    volume_kms_key=None,
    model_server_workers=None,
    image_uri=None,
    vpc_config_override=None,
    input_filter=None,
    output_filter=None,
    join_source=None,
):
    """``{"Model": ..., "Transform": ...}``: the model of an upstream task and a transform job with it.

    The arguments are those of :func:`model_config_from_estimator`, ``Estimator.transformer()``
    and :func:`transform_config`.
    """
    model_base_config = model_config_from_estimator(
        estimator=estimator,
        task_id=task_id,
        task_type=task_type,
        instance_type=instance_type,
        role=role,
        image_uri=image_uri,
        name=model_name,
        model_server_workers=model_server_workers,
        vpc_config_override=vpc_config_override,
    )
    transformer_kwargs = dict(
        strategy=strategy,
        assemble_with=assemble_with,
        output_path=output_path,
        output_kms_key=output_kms_key,
        accept=accept,
        env=env,
        max_concurrent_transforms=max_concurrent_transforms,
        max_payload=max_payload,
        tags=format_tags(tags),
        role=role,
        volume_kms_key=volume_kms_key,
    )
    if isinstance(estimator, Framework):
        transformer_kwargs["model_server_workers"] = model_server_workers
    transformer = estimator.transformer(instance_count, instance_type, **transformer_kwargs)
    transformer.model_name = model_base_config["ModelName"]
    transform_base_config = transform_config(
        transformer,
        data,
        data_type,
        content_type,
        compression_type,
        split_type,
        job_name,
        input_filter,
        output_filter,
        join_source,
    )
    return {"Model": model_base_config, "Transform": transform_base_config}


def deploy_config(model, initial_instance_count, instance_type, endpoint_name=None, tags=None):
    """The config of an Airflow ``SageMakerEndpointOperator``: model, endpoint config and endpoint.

    Args:
        model (sagepipe.model.Model): The model.
        initial_instance_count (int): Instances of the endpoint.
        instance_type (str): Instance type of the endpoint.
        endpoint_name (str): The endpoint name (default: the model name).
        tags (list[dict]): Tags of the endpoint config.
    """
    model_base_config = model_config(model, instance_type)
    name = model.name
    config_options = {
        "EndpointConfigName": name,
        "ProductionVariants": [production_variant(name, instance_type, initial_instance_count)],
    }
    if tags is not None:
        config_options["Tags"] = tags
    config = {
        "Model": model_base_config,
        "EndpointConfig": config_options,
        "Endpoint": {"EndpointName": endpoint_name or name, "EndpointConfigName": name},
    }
    s3_operations = model_base_config.pop("S3Operations", None)
    if s3_operations is not None:
        config["S3Operations"] = s3_operations
    return config


def deploy_config_from_estimator(
    estimator,
    task_id,
    task_type,
    initial_instance_count,
    instance_type,
    model_name=None,
    endpoint_name=None,
    tags=None,
    **kwargs,
):
    """:func:`deploy_config` of the model an upstream training or tuning task produces.

    ``kwargs`` go to ``estimator.create_model()``.
    """
    update_estimator_from_task(estimator, task_id, task_type)
    model = estimator.create_model(**kwargs)
    model.name = model_name
    return deploy_config(model, initial_instance_count, instance_type, endpoint_name, tags)


def processing_config(
    processor,
    inputs=None,
    outputs=None,
    job_name=None,
    experiment_config=None,
    container_arguments=None,
    container_entrypoint=None,
    kms_key_id=None,
):
    """The config of an Airflow ``SageMakerProcessingOperator``: a ``CreateProcessingJob`` request.

    Args:
        processor (sagepipe.processing.Processor): The processor.
        inputs (list[ProcessingInput]): The inputs.
        outputs (list[ProcessingOutput]): The outputs.
        job_name (str): The job name (default: from the base job name, else the image).
        experiment_config (dict): Experiment management configuration.
        container_arguments (list[str]): The container's arguments.
        container_entrypoint (list[str]): The container's entry point.
        kms_key_id (str): KMS key of the outputs.
    """
    if job_name is not None:
        processor._current_job_name = job_name
    elif processor.base_job_name is not None:
        processor._current_job_name = utils.name_from_base(processor.base_job_name)
    else:
        processor._current_job_name = utils.base_name_from_image(processor.image_uri, Processor.JOB_CLASS_NAME)
    output_config = {"Outputs": input_output_list_converter(outputs)}
    if kms_key_id is not None:
        output_config["KmsKeyId"] = kms_key_id
    config = {
        "ProcessingJobName": processor._current_job_name,
        "ProcessingInputs": input_output_list_converter(inputs),
        "ProcessingOutputConfig": output_config,
    }
    if experiment_config is not None:
        config["ExperimentConfig"] = experiment_config
    app_specification = {"ImageUri": processor.image_uri}
    if container_arguments is not None:
        app_specification["ContainerArguments"] = container_arguments
    if container_entrypoint is not None:
        app_specification["ContainerEntrypoint"] = container_entrypoint
    config["AppSpecification"] = app_specification
    config["RoleArn"] = processor.role
    if processor.env is not None:
        config["Environment"] = processor.env
    if processor.network_config is not None:
        config["NetworkConfig"] = processor.network_config._to_request_dict()
    cluster_config = {
        "InstanceCount": processor.instance_count,
        "InstanceType": processor.instance_type,
        "VolumeSizeInGB": processor.volume_size_in_gb,
    }
    if processor.volume_kms_key is not None:
        cluster_config["VolumeKmsKeyId"] = processor.volume_kms_key
    config["ProcessingResources"] = {"ClusterConfig": cluster_config}
    if processor.max_runtime_in_seconds is not None:
        config["StoppingCondition"] = {"MaxRuntimeInSeconds": processor.max_runtime_in_seconds}
    if processor.tags is not None:
        config["Tags"] = processor.tags
    return config


def input_output_list_converter(object_list):
    """The request dicts of ``ProcessingInput``/``ProcessingOutput`` objects (None stays None)."""
    if object_list:
        return [obj._to_request_dict() for obj in object_list]
    return object_list
