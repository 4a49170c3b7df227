"""The SageMaker ``Create*`` request builders of ``sagemaker.session.Session``.

Job classes (processors, estimators, transformers, tuners, models) call ``session.process(...)``,
``session.train(...)`` and so on; these build the exact request dict the SDK would send to
SageMaker and hand it to ``_intercept_create_request``. Under a ``PipelineSession`` that captures
the request as step arguments; on a plain session it raises, because sagepipe runs jobs only as
pipeline steps.
"""

from typing import Any, Callable, Dict, List, Optional

from sagepipe.exceptions import PipelineSessionRequiredError

_ACTIONS = {
    "process": ("start a processing job", "ProcessingStep(step_args=processor.run(...))"),
    "train": ("start a training job", "TrainingStep(step_args=estimator.fit(...))"),
    "transform": ("start a transform job", "TransformStep(step_args=transformer.transform(...))"),
    "create_tuning_job": ("start a tuning job", "TuningStep(step_args=tuner.fit(...))"),
    "create_model": ("create a model", "ModelStep(step_args=model.create(...))"),
    "create_model_package_from_containers": (
        "register a model package",
        "ModelStep(step_args=model.register(...))",
    ),
}


def no_direct_jobs_error(func_name: Optional[str]) -> PipelineSessionRequiredError:
    """The error raised when a job function is called outside a ``PipelineSession``."""
    action, step = _ACTIONS.get(func_name or "", (f"call {func_name}", "a pipeline step"))
    return PipelineSessionRequiredError(
        f"sagepipe cannot {action} directly: jobs run only as pipeline steps. Create the job object "
        f"with sagemaker_session=PipelineSession() (sagepipe.workflow.pipeline_context) and pass the "
        f"returned step arguments to {step}, then run the Pipeline."
    )


def container_def(
    image_uri,
    model_data_url=None,
    env=None,
    container_mode=None,
    image_config=None,
    accept_eula=None,
    additional_model_data_sources=None,
    model_reference_arn=None,
) -> Dict[str, Any]:
    """Create a definition for executing a container as part of a SageMaker model.

    Args:
        image_uri (str): Docker image URI to run for this container.
        model_data_url (str or dict): S3 location of model data, or a ``ModelDataSource`` dict.
        env (dict[str, str]): Environment variables for the container.
        container_mode (str): ``SingleModel`` or ``MultiModel``.
        image_config (dict): The ``ImageConfig`` of the container.
        accept_eula (bool): Whether the model's end-user license is accepted.
        additional_model_data_sources (list): Additional model data sources.
        model_reference_arn (str): Hub content ARN of a model reference.

    Returns:
        dict[str, str]: A complete container definition object usable with ``CreateModel``.
    """
    if env is None:
        env = {}
    c_def = {"Image": image_uri, "Environment": env}
    if additional_model_data_sources:
        c_def["AdditionalModelDataSources"] = additional_model_data_sources
    if isinstance(model_data_url, str) and (
        not (model_data_url.startswith("s3://") and model_data_url.endswith("tar.gz")) or accept_eula is None
    ):
        c_def["ModelDataUrl"] = model_data_url
    elif isinstance(model_data_url, (dict, str)):
        if isinstance(model_data_url, dict):
            c_def["ModelDataSource"] = model_data_url
        else:
            c_def["ModelDataSource"] = {
                "S3DataSource": {"S3Uri": model_data_url, "S3DataType": "S3Object", "CompressionType": "Gzip"}
            }
        if accept_eula is not None:
            c_def["ModelDataSource"]["S3DataSource"]["ModelAccessConfig"] = {"AcceptEula": accept_eula}
        if model_reference_arn:
            c_def["ModelDataSource"]["S3DataSource"]["HubAccessConfig"] = {"HubContentArn": model_reference_arn}
    elif model_data_url is not None:
        c_def["ModelDataUrl"] = model_data_url
    if container_mode:
        c_def["Mode"] = container_mode
    if image_config:
        c_def["ImageConfig"] = image_config
    return c_def


def pipeline_container_def(models, instance_type=None) -> List[Dict[str, Any]]:
    """The container definitions of several models (an inference pipeline)."""
    return [model.prepare_container_def(instance_type) for model in models]


def _expand_container_def(c_def):
    if isinstance(c_def, str):
        return container_def(c_def)
    return c_def


def put_present(request: Dict[str, Any], fields) -> None:
    """Set each ``(key, value)`` of ``fields`` whose value is not ``None``, in order.

    The SDK leaves a request field out when its argument is ``None``; the key order is the SDK's.
    """
    for key, value in fields:
        if value is not None:
            request[key] = value


def _request_dict_or_none(value):
    """``value._to_request_dict()``, or ``None`` for no value (model metrics, baselines, ...)."""
    return value._to_request_dict() if value is not None else None


def _put_training_options(
    request: Dict[str, Any],
    enable_network_isolation,
    encrypt_inter_container_traffic,
    use_spot_instances,
    checkpoint_s3_uri,
    checkpoint_local_path,
) -> None:
    """The options a training job and a tuning job's training definition share, set only when on."""
    if enable_network_isolation:
        request["EnableNetworkIsolation"] = enable_network_isolation
    if encrypt_inter_container_traffic:
        request["EnableInterContainerTrafficEncryption"] = encrypt_inter_container_traffic
    if use_spot_instances:
        request["EnableManagedSpotTraining"] = use_spot_instances
    if checkpoint_s3_uri:
        checkpoint_config = {"S3Uri": checkpoint_s3_uri}
        if checkpoint_local_path:
            checkpoint_config["LocalPath"] = checkpoint_local_path
        request["CheckpointConfig"] = checkpoint_config


def _with_auto_parameters(parameter_ranges, auto_parameters):
    """``parameter_ranges`` with the ``AutoParameters`` of ``auto_parameters`` ({name: value hint}).

    As the SDK, the given ranges dict itself gains the entry; with no ranges a new dict holds it.
    """
    if auto_parameters is None:
        return parameter_ranges
    ranges = {} if parameter_ranges is None else parameter_ranges
    ranges["AutoParameters"] = [{"Name": name, "ValueHint": value} for name, value in auto_parameters.items()]
    return ranges


def get_model_package_args(
    content_types=None,
    response_types=None,
    inference_instances=None,
    transform_instances=None,
    model_package_name=None,
    model_package_group_name=None,
    model_data=None,
    image_uri=None,
    model_metrics=None,
    metadata_properties=None,
    marketplace_cert=False,
    approval_status=None,
    description=None,
    tags=None,
    container_def_list=None,
    drift_check_baselines=None,
    customer_metadata_properties=None,
    validation_specification=None,
    domain=None,
    sample_payload_url=None,
    task=None,
    skip_model_validation=None,
    source_uri=None,
    model_card=None,
    model_life_cycle=None,
    model_package_registration_type=None,
    base_model=None,
) -> Dict[str, Any]:
    """Get arguments for ``create_model_package_from_containers`` (SDK semantics).

    Returns:
        dict: A dictionary of the keyword arguments, with the model metrics, drift check
        baselines and metadata converted to request dicts.
    """
    if container_def_list is not None:
        containers = container_def_list
    else:
        container = {"Image": image_uri}
        if model_data is not None:
            container["ModelDataUrl"] = model_data
        if base_model is not None:
            container["BaseModel"] = base_model._to_request_dict()
        containers = [container]
    model_package_args = {
        "containers": containers,
        "inference_instances": inference_instances,
        "transform_instances": transform_instances,
        "marketplace_cert": marketplace_cert,
    }
    optional = {
        "content_types": content_types,
        "response_types": response_types,
        "model_package_name": model_package_name,
        "model_package_group_name": model_package_group_name,
        "model_metrics": _request_dict_or_none(model_metrics),
        "drift_check_baselines": _request_dict_or_none(drift_check_baselines),
        "metadata_properties": _request_dict_or_none(metadata_properties),
        "approval_status": approval_status,
        "description": description,
        "tags": tags,
        "customer_metadata_properties": customer_metadata_properties,
        "validation_specification": validation_specification,
        "domain": domain,
        "sample_payload_url": sample_payload_url,
        "task": task,
        "skip_model_validation": skip_model_validation,
        "source_uri": source_uri,
        "model_life_cycle": _request_dict_or_none(model_life_cycle),
        "model_package_registration_type": model_package_registration_type,
    }
    model_package_args.update({k: v for k, v in optional.items() if v is not None})
    if model_card is not None:
        raise NotImplementedError("model_card is not supported by sagepipe model registration")
    return model_package_args


def get_create_model_package_request(
    model_package_name=None,
    model_package_group_name=None,
    containers=None,
    content_types=None,
    response_types=None,
    inference_instances=None,
    transform_instances=None,
    model_metrics=None,
    metadata_properties=None,
    marketplace_cert=False,
    approval_status="PendingManualApproval",
    description=None,
    tags=None,
    drift_check_baselines=None,
    customer_metadata_properties=None,
    validation_specification=None,
    domain=None,
    sample_payload_url=None,
    task=None,
    skip_model_validation="None",
    source_uri=None,
    model_card=None,
    model_life_cycle=None,
    model_package_registration_type=None,
) -> Dict[str, Any]:
    """Get the ``CreateModelPackage`` request dict (SDK semantics).

    Raises:
        ValueError: On the SDK's invalid argument combinations.
    """
    if all([model_package_name, model_package_group_name]):
        raise ValueError("model_package_name and model_package_group_name cannot be present at the same time.")
    if all([model_package_name, source_uri]):
        raise ValueError("Un-versioned SageMaker Model Package currently cannot be created with source_uri.")
    request_dict: Dict[str, Any] = {}
    put_present(
        request_dict,
        (
            ("ModelPackageName", model_package_name),
            ("ModelPackageGroupName", model_package_group_name),
            ("ModelPackageDescription", description),
            ("Tags", tags),
        ),
    )
    for key, value in (
        ("ModelMetrics", model_metrics),
        ("DriftCheckBaselines", drift_check_baselines),
        ("MetadataProperties", metadata_properties),
    ):
        if value:
            request_dict[key] = value
    if customer_metadata_properties is not None:
        request_dict["CustomerMetadataProperties"] = customer_metadata_properties
    if validation_specification:
        request_dict["ValidationSpecification"] = validation_specification
    put_present(
        request_dict,
        (("Domain", domain), ("SamplePayloadUrl", sample_payload_url), ("Task", task), ("SourceUri", source_uri)),
    )
    if containers is not None:
        inference_specification = {"Containers": containers}
        if content_types is not None:
            inference_specification["SupportedContentTypes"] = content_types
        if response_types is not None:
            inference_specification["SupportedResponseMIMETypes"] = response_types
        if model_package_group_name is not None:
            if inference_instances is not None:
                inference_specification["SupportedRealtimeInferenceInstanceTypes"] = inference_instances
            if transform_instances is not None:
                inference_specification["SupportedTransformInstanceTypes"] = transform_instances
        else:
            if not all([inference_instances, transform_instances]):
                raise ValueError(
                    "inference_instances and transform_instances "
                    "must be provided if model_package_group_name is not present."
                )
            inference_specification["SupportedRealtimeInferenceInstanceTypes"] = inference_instances
            inference_specification["SupportedTransformInstanceTypes"] = transform_instances
        request_dict["InferenceSpecification"] = inference_specification
    request_dict["CertifyForMarketplace"] = marketplace_cert
    request_dict["ModelApprovalStatus"] = approval_status
    request_dict["SkipModelValidation"] = skip_model_validation
    put_present(
        request_dict,
        (
            ("ModelCard", model_card),
            ("ModelLifeCycle", model_life_cycle),
            ("ModelPackageRegistrationType", model_package_registration_type),
        ),
    )
    return request_dict


class JobRequests:
    """The request-building half of the SDK's ``Session`` (mixed into :class:`sagepipe.session.Session`)."""

    expand_role: Callable[[str], str]  # the Session's

    def _intercept_create_request(self, request: Dict, create, func_name: str = None):
        """Hand a built ``Create*`` request on: a plain session has no job service, so it raises.

        ``PipelineSession`` overrides this to capture the request as step arguments.
        """
        raise no_direct_jobs_error(func_name)

    # -- processing ----------------------------------------------------------------------------

    def process(
        self,
        inputs,
        output_config,
        job_name,
        resources,
        stopping_condition,
        app_specification,
        environment: Optional[Dict[str, str]] = None,
        network_config=None,
        role_arn=None,
        tags=None,
        experiment_config=None,
    ):
        """Build a ``CreateProcessingJob`` request (see ``_get_process_request``) and intercept it.

        The SageMaker config's ``SageMaker.ProcessingJob`` tags are added here, at request time
        (as the SDK); its other defaults were applied when the ``Processor`` was made.
        """
        from sagepipe import config

        request = self._get_process_request(
            inputs=inputs,
            output_config=output_config,
            job_name=job_name,
            resources=resources,
            stopping_condition=stopping_condition,
            app_specification=app_specification,
            environment=environment,
            network_config=network_config,
            role_arn=role_arn,
            tags=config.append_config_tags(self, tags, config.PROCESSING_JOB_TAGS_PATH),
            experiment_config=experiment_config,
        )
        return self._intercept_create_request(request, None, "process")

    def _get_process_request(
        self,
        inputs,
        output_config,
        job_name,
        resources,
        stopping_condition,
        app_specification,
        environment,
        network_config,
        role_arn,
        tags,
        experiment_config=None,
    ) -> Dict[str, Any]:
        """The ``CreateProcessingJob`` request dict."""
        request = {
            "ProcessingJobName": job_name,
            "ProcessingResources": resources,
            "AppSpecification": app_specification,
            "RoleArn": role_arn,
        }
        if inputs:
            request["ProcessingInputs"] = inputs
        if output_config["Outputs"]:
            request["ProcessingOutputConfig"] = output_config
        put_present(
            request,
            (
                ("Environment", environment),
                ("NetworkConfig", network_config),
                ("StoppingCondition", stopping_condition),
                ("Tags", tags),
            ),
        )
        if experiment_config:
            request["ExperimentConfig"] = experiment_config
        return request

    # -- training ------------------------------------------------------------------------------

    def train(self, **train_args):
        """Build a ``CreateTrainingJob`` request (see ``_get_train_request``) and intercept it.

        The SageMaker config's ``SageMaker.TrainingJob`` tags are added here, at request time
        (as the SDK); its other defaults were applied when the estimator was made. Estimators
        leave a False inter-container encryption out of the request, so the config's value
        fills it here, as in the SDK.
        """
        from sagepipe import config

        args = dict(train_args)
        args["tags"] = config.append_config_tags(self, args.get("tags"), config.TRAINING_JOB_TAGS_PATH)
        args["encrypt_inter_container_traffic"] = config.resolve_value_from_config(
            args.get("encrypt_inter_container_traffic"),
            config.TRAINING_JOB_INTER_CONTAINER_ENCRYPTION_PATH,
            False,
            self,
        )
        return self._intercept_create_request(self._get_train_request(**args), None, "train")

    def _get_train_request(
        self,
        input_mode,
        input_config,
        role,
        job_name,
        output_config,
        resource_config,
        vpc_config,
        hyperparameters,
        stop_condition,
        tags,
        metric_definitions,
        enable_network_isolation=False,
        image_uri=None,
        training_image_config=None,
        infra_check_config=None,
        container_entry_point=None,
        container_arguments=None,
        algorithm_arn=None,
        encrypt_inter_container_traffic=False,
        use_spot_instances=False,
        checkpoint_s3_uri=None,
        checkpoint_local_path=None,
        experiment_config=None,
        debugger_rule_configs=None,
        debugger_hook_config=None,
        tensorboard_output_config=None,
        enable_sagemaker_metrics=None,
        profiler_rule_configs=None,
        profiler_config=None,
        remote_debug_config=None,
        session_chaining_config=None,
        environment=None,
        retry_strategy=None,
    ) -> Dict[str, Any]:
        """The ``CreateTrainingJob`` request dict (key order as the SDK builds it)."""
        request = {
            "AlgorithmSpecification": {"TrainingInputMode": input_mode},
            "OutputDataConfig": output_config,
            "TrainingJobName": job_name,
            "StoppingCondition": stop_condition,
            "ResourceConfig": resource_config,
            "RoleArn": role,
        }
        if image_uri and algorithm_arn:
            raise ValueError(
                "image_uri and algorithm_arn are mutually exclusive."
                f"Both were provided: image_uri: {image_uri} algorithm_arn: {algorithm_arn}"
            )
        if image_uri is None and algorithm_arn is None:
            raise ValueError("either image_uri or algorithm_arn is required. None was provided.")
        put_present(
            request["AlgorithmSpecification"],
            (
                ("TrainingImage", image_uri),
                ("TrainingImageConfig", training_image_config),
                ("ContainerEntrypoint", container_entry_point),
                ("ContainerArguments", container_arguments),
                ("AlgorithmName", algorithm_arn),
                ("MetricDefinitions", metric_definitions),
                ("EnableSageMakerMetricsTimeSeries", enable_sagemaker_metrics),
            ),
        )
        put_present(request, (("InfraCheckConfig", infra_check_config), ("InputDataConfig", input_config)))
        if hyperparameters and len(hyperparameters) > 0:
            request["HyperParameters"] = hyperparameters
        put_present(request, (("Environment", environment), ("Tags", tags), ("VpcConfig", vpc_config)))
        if experiment_config and len(experiment_config) > 0:
            request["ExperimentConfig"] = experiment_config
        _put_training_options(
            request,
            enable_network_isolation,
            encrypt_inter_container_traffic,
            use_spot_instances,
            checkpoint_s3_uri,
            checkpoint_local_path,
        )
        put_present(
            request,
            (
                ("DebugRuleConfigurations", debugger_rule_configs),
                ("DebugHookConfig", debugger_hook_config),
                ("TensorBoardOutputConfig", tensorboard_output_config),
                ("ProfilerRuleConfigurations", profiler_rule_configs),
                ("ProfilerConfig", profiler_config),
                ("RemoteDebugConfig", remote_debug_config),
                ("SessionChainingConfig", session_chaining_config),
                ("RetryStrategy", retry_strategy),
            ),
        )
        return request

    # -- transform -----------------------------------------------------------------------------

    def transform(self, **transform_args):
        """Build a ``CreateTransformJob`` request (see ``_get_transform_request``) and intercept it.

        The SageMaker config's ``SageMaker.TransformJob`` tags are added here, at request time
        (as the SDK); its other defaults were applied when the ``Transformer`` was made.
        """
        from sagepipe import config

        args = dict(transform_args)
        args["tags"] = config.append_config_tags(self, args.get("tags"), config.TRANSFORM_JOB_TAGS_PATH)
        return self._intercept_create_request(self._get_transform_request(**args), None, "transform")

    def _get_transform_request(
        self,
        job_name,
        model_name,
        strategy,
        max_concurrent_transforms,
        max_payload,
        input_config,
        output_config,
        resource_config,
        experiment_config,
        env: Optional[Dict[str, str]] = None,
        tags=None,
        data_processing=None,
        model_client_config=None,
        batch_data_capture_config=None,
    ) -> Dict[str, Any]:
        """The ``CreateTransformJob`` request dict."""
        request = {
            "TransformJobName": job_name,
            "ModelName": model_name,
            "TransformInput": input_config,
            "TransformOutput": output_config,
            "TransformResources": resource_config,
        }
        put_present(
            request,
            (
                ("BatchStrategy", strategy),
                ("MaxConcurrentTransforms", max_concurrent_transforms),
                ("MaxPayloadInMB", max_payload),
                ("Environment", env),
                ("Tags", tags),
                ("DataProcessing", data_processing),
            ),
        )
        if experiment_config and len(experiment_config) > 0:
            request["ExperimentConfig"] = experiment_config
        if model_client_config and len(model_client_config) > 0:
            request["ModelClientConfig"] = model_client_config
        if batch_data_capture_config is not None:
            request["DataCaptureConfig"] = batch_data_capture_config._to_request_dict()
        return request

    # -- models --------------------------------------------------------------------------------

    def _create_model_request(
        self,
        name,
        role,
        container_defs,
        vpc_config=None,
        enable_network_isolation=False,
        primary_container=None,
        tags=None,
    ) -> Dict[str, Any]:
        """The ``CreateModel`` request dict."""
        if container_defs and primary_container:
            raise ValueError("Both container_defs and primary_container can not be passed as input")
        if primary_container:
            container_defs = primary_container
        role = self.expand_role(role) if isinstance(role, str) else role
        container_definition = (
            container_defs if isinstance(container_defs, list) else _expand_container_def(container_defs)
        )
        request = {"ModelName": name, "ExecutionRoleArn": role}
        if isinstance(container_definition, list):
            request["Containers"] = container_definition
        elif "ModelPackageName" in container_definition:
            request["Containers"] = [container_definition]
        else:
            request["PrimaryContainer"] = container_definition
        if tags:
            request["Tags"] = tags
        if vpc_config:
            request["VpcConfig"] = vpc_config
        if enable_network_isolation:
            request["EnableNetworkIsolation"] = enable_network_isolation
        return request

    def create_model(
        self,
        name,
        role=None,
        container_defs=None,
        vpc_config=None,
        enable_network_isolation=None,
        primary_container=None,
        tags=None,
    ):
        """Build a ``CreateModel`` request and intercept it; returns the model name.

        What the caller left out comes from the SageMaker config's ``SageMaker.Model`` defaults
        (execution role, VPC config, network isolation; config tags added).
        """
        from sagepipe import config

        tags = config.append_config_tags(self, tags, config.MODEL_TAGS_PATH)
        role = config.resolve_value_from_config(role, config.MODEL_EXECUTION_ROLE_ARN_PATH, None, self)
        vpc_config = config.resolve_value_from_config(vpc_config, config.MODEL_VPC_CONFIG_PATH, None, self)
        enable_network_isolation = config.resolve_value_from_config(
            enable_network_isolation, config.MODEL_ENABLE_NETWORK_ISOLATION_PATH, False, self
        )
        request = self._create_model_request(
            name=name,
            role=role,
            container_defs=container_defs,
            vpc_config=vpc_config,
            enable_network_isolation=enable_network_isolation,
            primary_container=primary_container,
            tags=tags,
        )
        self._intercept_create_request(request, None, "create_model")
        return name

    def create_model_package_from_containers(
        self,
        containers=None,
        content_types=None,
        response_types=None,
        inference_instances=None,
        transform_instances=None,
        model_package_name=None,
        model_package_group_name=None,
        model_metrics=None,
        metadata_properties=None,
        marketplace_cert=False,
        approval_status="PendingManualApproval",
        description=None,
        drift_check_baselines=None,
        customer_metadata_properties=None,
        validation_specification=None,
        domain=None,
        sample_payload_url=None,
        task=None,
        skip_model_validation="None",
        source_uri=None,
        model_card=None,
        model_life_cycle=None,
        model_package_registration_type=None,
    ):
        """Build a ``CreateModelPackage`` request and intercept it."""
        request = get_create_model_package_request(
            model_package_name,
            model_package_group_name,
            containers,
            content_types,
            response_types,
            inference_instances,
            transform_instances,
            model_metrics,
            metadata_properties,
            marketplace_cert,
            approval_status,
            description,
            drift_check_baselines=drift_check_baselines,
            customer_metadata_properties=customer_metadata_properties,
            validation_specification=validation_specification,
            domain=domain,
            sample_payload_url=sample_payload_url,
            task=task,
            skip_model_validation=skip_model_validation,
            source_uri=source_uri,
            model_card=model_card,
            model_life_cycle=model_life_cycle,
            model_package_registration_type=model_package_registration_type,
        )
        return self._intercept_create_request(request, None, "create_model_package_from_containers")

    # -- tuning --------------------------------------------------------------------------------

    def create_tuning_job(
        self,
        job_name,
        tuning_config,
        training_config=None,
        training_config_list=None,
        warm_start_config=None,
        tags=None,
        autotune=False,
    ):
        """Build a ``CreateHyperParameterTuningJob`` request and intercept it."""
        request = self._get_tuning_request(
            job_name=job_name,
            tuning_config=tuning_config,
            training_config=training_config,
            training_config_list=training_config_list,
            warm_start_config=warm_start_config,
            tags=tags,
            autotune=autotune,
        )
        return self._intercept_create_request(request, None, "create_tuning_job")

    def _get_tuning_request(
        self,
        job_name,
        tuning_config,
        training_config=None,
        training_config_list=None,
        warm_start_config=None,
        tags=None,
        autotune=False,
    ) -> Dict[str, Any]:
        """The ``CreateHyperParameterTuningJob`` request dict."""
        if training_config is None and training_config_list is None:
            raise ValueError("Either training_config or training_config_list should be provided.")
        if training_config is not None and training_config_list is not None:
            raise ValueError("Only one of training_config and training_config_list should be provided.")
        request = {
            "HyperParameterTuningJobName": job_name,
            "HyperParameterTuningJobConfig": self._map_tuning_config(**tuning_config),
        }
        if autotune:
            request["Autotune"] = {"Mode": "Enabled"}
        if training_config is not None:
            request["TrainingJobDefinition"] = self._map_training_config(**training_config)
        if training_config_list is not None:
            request["TrainingJobDefinitions"] = [self._map_training_config(**cfg) for cfg in training_config_list]
        if warm_start_config is not None:
            request["WarmStartConfig"] = warm_start_config
        # The config's training-job tags join here, so both TuningStep forms carry them (as the SDK).
        from sagepipe import config

        tags = config.append_config_tags(self, tags, config.TRAINING_JOB_TAGS_PATH)
        if tags is not None:
            request["Tags"] = tags
        return request

    @staticmethod
    def _map_tuning_objective(objective_type, objective_metric_name):
        tuning_objective = None
        if objective_type is not None or objective_metric_name is not None:
            tuning_objective = {}
        if objective_type is not None:
            tuning_objective["Type"] = objective_type
        if objective_metric_name is not None:
            tuning_objective["MetricName"] = objective_metric_name
        return tuning_objective

    @classmethod
    def _map_tuning_config(
        cls,
        strategy,
        max_jobs,
        max_parallel_jobs,
        max_runtime_in_seconds=None,
        early_stopping_type="Off",
        objective_type=None,
        objective_metric_name=None,
        parameter_ranges=None,
        random_seed=None,
        strategy_config=None,
        completion_criteria_config=None,
        auto_parameters=None,
    ) -> Dict[str, Any]:
        """The ``HyperParameterTuningJobConfig`` dict."""
        tuning_config = {
            "Strategy": strategy,
            "ResourceLimits": {"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": max_parallel_jobs},
            "TrainingJobEarlyStoppingType": early_stopping_type,
        }
        if max_runtime_in_seconds is not None:
            tuning_config["ResourceLimits"]["MaxRuntimeInSeconds"] = max_runtime_in_seconds
        put_present(
            tuning_config,
            (
                ("RandomSeed", random_seed),
                ("HyperParameterTuningJobObjective", cls._map_tuning_objective(objective_type, objective_metric_name)),
                ("ParameterRanges", _with_auto_parameters(parameter_ranges, auto_parameters)),
                ("StrategyConfig", strategy_config),
                ("TuningJobCompletionCriteria", completion_criteria_config),
            ),
        )
        return tuning_config

    @classmethod
    def _map_training_config(
        cls,
        static_hyperparameters,
        input_mode,
        role,
        output_config,
        stop_condition,
        input_config=None,
        resource_config=None,
        hpo_resource_config=None,
        metric_definitions=None,
        image_uri=None,
        algorithm_arn=None,
        vpc_config=None,
        enable_network_isolation=False,
        encrypt_inter_container_traffic=False,
        estimator_name=None,
        objective_type=None,
        objective_metric_name=None,
        parameter_ranges=None,
        use_spot_instances=False,
        checkpoint_s3_uri=None,
        checkpoint_local_path=None,
        max_retry_attempts=None,
        environment=None,
        auto_parameters=None,
    ) -> Dict[str, Any]:
        """The ``TrainingJobDefinition`` dict of a tuning job."""
        if hpo_resource_config is not None:
            resource_config_map = {"HyperParameterTuningResourceConfig": hpo_resource_config}
        else:
            resource_config_map = {"ResourceConfig": resource_config}
        definition = {
            "StaticHyperParameters": static_hyperparameters,
            "RoleArn": role,
            "OutputDataConfig": output_config,
            "StoppingCondition": stop_condition,
            **resource_config_map,
        }
        algorithm_spec = {"TrainingInputMode": input_mode}
        put_present(algorithm_spec, (("MetricDefinitions", metric_definitions),))
        if algorithm_arn:
            algorithm_spec["AlgorithmName"] = algorithm_arn
        else:
            algorithm_spec["TrainingImage"] = image_uri
        definition["AlgorithmSpecification"] = algorithm_spec
        put_present(definition, (("InputDataConfig", input_config), ("VpcConfig", vpc_config)))
        _put_training_options(
            definition,
            enable_network_isolation,
            encrypt_inter_container_traffic,
            use_spot_instances,
            checkpoint_s3_uri,
            checkpoint_local_path,
        )
        put_present(
            definition,
            (
                ("DefinitionName", estimator_name),
                ("TuningObjective", cls._map_tuning_objective(objective_type, objective_metric_name)),
                ("HyperParameterRanges", _with_auto_parameters(parameter_ranges, auto_parameters)),
            ),
        )
        if max_retry_attempts is not None:
            definition["RetryStrategy"] = {"MaximumRetryAttempts": max_retry_attempts}
        put_present(definition, (("Environment", environment),))
        return definition
