"""Inference pipelines (mirror of ``sagemaker.pipeline``: ``PipelineModel``).

A ``PipelineModel`` is one SageMaker model of several containers, each request passing through
them in order. ``create()``/``register()`` build the SDK's requests (``Containers`` lists) for a
``ModelStep``. Locally, a transform step serves a model of one container; a transform with a
model of several containers fails before the run starts, naming the step.
"""

from typing import Callable, Dict, List, Optional, Union

from sagepipe._job_requests import get_model_package_args, pipeline_container_def
from sagepipe.model import Model, _stored_model_transformer, update_container_with_inference_params
from sagepipe.utils import format_tags, name_from_image
from sagepipe.workflow.entities import PipelineVariable
from sagepipe.workflow.pipeline_context import runnable_by_pipeline

__all__ = ["PipelineModel"]


class PipelineModel:
    """A model of several containers run in sequence (an inference pipeline)."""

    def __init__(
        self,
        models: List[Model],
        role: str = None,
        predictor_cls: Optional[Callable] = None,
        name: Optional[str] = None,
        vpc_config: Optional[Dict[str, List[Union[str, PipelineVariable]]]] = None,
        sagemaker_session=None,
        enable_network_isolation: Union[bool, PipelineVariable] = None,
    ):
        """Initialize a ``PipelineModel``.

        Args:
            models (list[Model]): The models, in the order requests pass through them.
            role (str): An IAM role ARN (recorded; required as in the SDK).
            predictor_cls (callable): Recorded.
            name (str): The model name.
            vpc_config (dict): ``Subnets`` / ``SecurityGroupIds`` (recorded).
            sagemaker_session: A ``PipelineSession`` to build steps.
            enable_network_isolation (bool): Recorded.

        Raises:
            ValueError: No role.
        """
        self.models = models
        self.predictor_cls = predictor_cls
        self.name = name
        self.endpoint_name = None
        self.sagemaker_session = sagemaker_session
        # What the caller left out comes from the SageMaker config's Model defaults (as the SDK);
        # without a session yet, from the config files directly.
        from sagepipe import config

        sagemaker_config = config.load_sagemaker_config() if sagemaker_session is None else None
        self.role = config.resolve_value_from_config(
            role, config.MODEL_EXECUTION_ROLE_ARN_PATH, None, sagemaker_session, sagemaker_config
        )
        self.vpc_config = config.resolve_value_from_config(
            vpc_config, config.MODEL_VPC_CONFIG_PATH, None, sagemaker_session, sagemaker_config
        )
        self.enable_network_isolation = config.resolve_value_from_config(
            enable_network_isolation,
            config.MODEL_ENABLE_NETWORK_ISOLATION_PATH,
            False,
            sagemaker_session,
            sagemaker_config,
        )
        if not self.role:
            raise ValueError("An AWS IAM role is required to create a Pipeline Model.")

    def _init_sagemaker_session_if_does_not_exist(self, instance_type=None):
        if not self.sagemaker_session:
            from sagepipe.session import Session

            self.sagemaker_session = Session()

    def pipeline_container_def(self, instance_type=None):
        """The container definitions of the models, in order."""
        return pipeline_container_def(self.models, instance_type)

    @runnable_by_pipeline
    def create(self, instance_type: str):
        """Create the model (under a ``PipelineSession``: return ``ModelStep`` arguments).

        Args:
            instance_type (str): The instance type (chooses CPU/GPU images of the models).
        """
        self._create_sagemaker_pipeline_model(instance_type)

    def _create_sagemaker_pipeline_model(self, instance_type):
        self._init_sagemaker_session_if_does_not_exist(instance_type)
        containers = self.pipeline_container_def(instance_type)
        self.name = self.name or name_from_image(containers[0]["Image"])
        self.sagemaker_session.create_model(
            name=self.name,
            role=self.role,
            container_defs=containers,
            vpc_config=self.vpc_config,
            enable_network_isolation=self.enable_network_isolation,
        )

    @runnable_by_pipeline
    def register(
        self,
        content_types: List[Union[str, PipelineVariable]] = None,
        response_types: List[Union[str, PipelineVariable]] = None,
        inference_instances: Optional[List[Union[str, PipelineVariable]]] = None,
        transform_instances: Optional[List[Union[str, PipelineVariable]]] = None,
        model_package_name: Optional[Union[str, PipelineVariable]] = None,
        model_package_group_name: Optional[Union[str, PipelineVariable]] = None,
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        model_metrics=None,
        metadata_properties=None,
        marketplace_cert: bool = False,
        approval_status: Optional[Union[str, PipelineVariable]] = None,
        description: Optional[str] = None,
        drift_check_baselines=None,
        customer_metadata_properties: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        domain: Optional[Union[str, PipelineVariable]] = None,
        sample_payload_url: Optional[Union[str, PipelineVariable]] = None,
        task: Optional[Union[str, PipelineVariable]] = None,
        framework: Optional[Union[str, PipelineVariable]] = None,
        framework_version: Optional[Union[str, PipelineVariable]] = None,
        nearest_model_name: Optional[Union[str, PipelineVariable]] = None,
        data_input_configuration: Optional[Union[str, PipelineVariable]] = None,
        skip_model_validation: Optional[Union[str, PipelineVariable]] = None,
        source_uri: Optional[Union[str, PipelineVariable]] = None,
        model_card=None,
        model_package_registration_type: Optional[Union[str, PipelineVariable]] = None,
        base_model=None,
    ):
        """Register the inference pipeline as a model package (under a ``PipelineSession``: ``ModelStep`` args).

        Arguments are those of :meth:`sagepipe.model.Model.register`; the package's
        ``InferenceSpecification.Containers`` lists every model's container.

        Raises:
            ValueError: A model has no ``model_data``.
            NotImplementedError: ``model_card`` or ``base_model``.
        """
        if model_card is not None or base_model is not None:
            raise NotImplementedError("model_card and base_model are not supported by sagepipe.")
        for model in self.models:
            if model.model_data is None:
                raise ValueError("SageMaker Model Package cannot be created without model data.")
        if model_package_group_name is not None:
            container_defs = self.pipeline_container_def(inference_instances[0] if inference_instances else None)
            container_defs = update_container_with_inference_params(
                framework=framework,
                framework_version=framework_version,
                nearest_model_name=nearest_model_name,
                data_input_configuration=data_input_configuration,
                container_list=container_defs,
            )
        else:
            container_defs = [
                {"Image": image_uri or model.image_uri, "ModelDataUrl": model.model_data} for model in self.models
            ]
        model_pkg_args = get_model_package_args(
            content_types,
            response_types,
            inference_instances=inference_instances,
            transform_instances=transform_instances,
            model_package_name=model_package_name,
            model_package_group_name=model_package_group_name,
            model_metrics=model_metrics,
            metadata_properties=metadata_properties,
            marketplace_cert=marketplace_cert,
            approval_status=approval_status,
            description=description,
            container_def_list=container_defs,
            drift_check_baselines=drift_check_baselines,
            customer_metadata_properties=customer_metadata_properties,
            domain=domain,
            sample_payload_url=sample_payload_url,
            task=task,
            skip_model_validation=skip_model_validation,
            source_uri=source_uri,
            model_package_registration_type=model_package_registration_type,
        )
        self.sagemaker_session.create_model_package_from_containers(**model_pkg_args)

    def transformer(
        self,
        instance_count,
        instance_type,
        strategy=None,
        assemble_with=None,
        output_path=None,
        output_kms_key=None,
        accept=None,
        env=None,
        max_concurrent_transforms=None,
        max_payload=None,
        tags=None,
        volume_kms_key=None,
    ):
        """A ``Transformer`` for the model named ``self.name`` (as :meth:`sagepipe.model.Model.transformer`).

        sagepipe creates models only as pipeline steps, so this needs ``name`` of a model in the
        store; for the model of a ``ModelStep`` use ``Transformer(model_name=step.properties.ModelName)``.
        Locally only a model of one container can be served.

        Raises:
            PipelineSessionRequiredError: The session is not a ``PipelineSession``.
            ValueError: No ``name``.
        """
        return _stored_model_transformer(
            self,
            "PipelineModel.transformer() needs the model's name (PipelineModel(name=...)) of a model in the "
            "sagepipe store: sagepipe creates models only as pipeline steps. For a model this pipeline creates, "
            "use Transformer(model_name=model_step.properties.ModelName, ...).",
            instance_count,
            instance_type,
            strategy=strategy,
            assemble_with=assemble_with,
            output_path=output_path,
            output_kms_key=output_kms_key,
            accept=accept,
            max_concurrent_transforms=max_concurrent_transforms,
            max_payload=max_payload,
            env=env,
            tags=format_tags(tags),
            base_transform_job_name=self.name,
            volume_kms_key=volume_kms_key,
        )
