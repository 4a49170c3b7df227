"""Step collections (mirror of ``sagemaker.workflow.step_collections``).

``StepCollection`` is the base; ``RegisterModel`` (legacy; prefer ``ModelStep``) and
``EstimatorTransformer`` expand into repack/register and model/transform steps as the SDK does.
"""

import warnings
from typing import List, Optional, Union

from sagepipe.workflow.entities import RequestType
from sagepipe.workflow.step_outputs import StepOutput
from sagepipe.workflow.steps import Step


class StepCollection:
    """A wrapper of pipeline steps for workflow.

    Attributes:
        name (str): The name of the `StepCollection`.
        steps (List[Step]): A list of steps.
        depends_on (List[Union[str, Step, StepCollection, StepOutput]]): The steps (or names)
            that the current collection depends on.
    """

    def __init__(
        self,
        name: str,
        steps: List[Step] = None,
        depends_on: List[Union[str, Step, "StepCollection", StepOutput]] = None,
    ):
        self.name = name
        self.steps = steps if steps is not None else []
        self.depends_on = depends_on

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.name, self.steps, self.depends_on) == (other.name, other.steps, other.depends_on)

    __hash__ = None  # type: ignore[assignment]  # unhashable, as the SDK's class

    def __repr__(self):
        return f"{self.__class__.__name__}(name={self.name!r}, steps={self.steps!r}, depends_on={self.depends_on!r})"

    def request_dicts(self) -> List[RequestType]:
        """Get the request structure for workflow service calls."""
        return [step.to_request() for step in self.steps]

    @property
    def properties(self):
        """The properties of the last step of the `StepCollection`."""
        if not self.steps:
            return None
        return self.steps[-1].properties


class RegisterModel(StepCollection):
    """Register Model step collection for workflow (legacy: ``<name>-RepackModel``, ``<name>-RegisterModel``)."""

    _REGISTER_MODEL_NAME_BASE = "RegisterModel"
    _REPACK_MODEL_NAME_BASE = "RepackModel"

    def __init__(
        self,
        name: str,
        content_types,
        response_types,
        inference_instances=None,
        transform_instances=None,
        estimator=None,
        model_data=None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
        repack_model_step_retry_policies=None,
        register_model_step_retry_policies=None,
        model_package_group_name=None,
        model_metrics=None,
        approval_status=None,
        image_uri=None,
        compile_model_family=None,
        display_name=None,
        description=None,
        tags=None,
        model=None,
        drift_check_baselines=None,
        customer_metadata_properties=None,
        domain=None,
        sample_payload_url=None,
        task=None,
        framework=None,
        framework_version=None,
        nearest_model_name=None,
        data_input_configuration=None,
        skip_model_validation=None,
        source_uri=None,
        model_card=None,
        model_life_cycle=None,
        model_package_registration_type=None,
        base_model=None,
        **kwargs,
    ):
        """Construct steps `_RepackModelStep` and `_RegisterModelStep` based on the estimator or model.

        Args:
            name (str): The name of the collection (sub-steps ``<name>-RegisterModel`` and, with
                ``entry_point=`` in kwargs, ``<name>-RepackModel``).
            content_types (list): The supported MIME types for the input data.
            response_types (list): The supported MIME types for the output data.
            inference_instances, transform_instances (list): Supported instance types.
            estimator (EstimatorBase): The estimator whose image and session are used.
            model_data: The S3 location of the model artifacts.
            model (Model): A model to register instead of the estimator's.
            Other arguments: as ``Model.register()``.
        """
        from sagepipe.model import Model, update_container_with_inference_params
        from sagepipe.workflow._utils import _RegisterModelStep, _RepackModelStep

        super().__init__(name=name, depends_on=depends_on)
        steps: List[Step] = []
        repack_model = False
        self.model_list = None
        self.container_def_list = None
        subnets = None
        security_group_ids = None
        if estimator is not None:
            subnets = estimator.subnets
            security_group_ids = estimator.security_group_ids
        elif model is not None and model.vpc_config is not None:
            subnets = model.vpc_config["Subnets"]
            security_group_ids = model.vpc_config["SecurityGroupIds"]
        if "entry_point" in kwargs:
            repack_model = True
            entry_point = kwargs.pop("entry_point", None)
            source_dir = kwargs.pop("source_dir", None)
            dependencies = kwargs.pop("dependencies", None)
            kwargs = dict(**kwargs, output_kms_key=kwargs.pop("model_kms_key", None))
            repack_model_step = _RepackModelStep(
                name=f"{self.name}-{self._REPACK_MODEL_NAME_BASE}",
                depends_on=depends_on,
                retry_policies=repack_model_step_retry_policies,
                sagemaker_session=estimator.sagemaker_session,
                role=estimator.role,
                model_data=model_data,
                entry_point=entry_point,
                source_dir=source_dir,
                dependencies=dependencies,
                tags=tags,
                subnets=subnets,
                security_group_ids=security_group_ids,
                description=description,
                display_name=display_name,
                **kwargs,
            )
            steps.append(repack_model_step)
            model_data = repack_model_step.properties.ModelArtifacts.S3ModelArtifacts
            kwargs.pop("output_kms_key", None)
        elif model is not None:
            from sagepipe.pipeline import PipelineModel

            if isinstance(model, PipelineModel):
                self.model_list = model.models
            elif isinstance(model, Model):
                self.model_list = [model]
            else:
                raise TypeError(f"RegisterModel {name}: model must be a sagepipe Model or PipelineModel.")
            for model_entity in self.model_list:
                if getattr(model_entity, "entry_point", None) is None:
                    continue
                repack_model = True
                model_name = model_entity.name or getattr(model_entity, "_framework_name", None) or "Model"
                repack_model_step = _RepackModelStep(
                    name=f"{model_name}-{self._REPACK_MODEL_NAME_BASE}",
                    depends_on=depends_on,
                    retry_policies=repack_model_step_retry_policies,
                    sagemaker_session=estimator.sagemaker_session if estimator else model_entity.sagemaker_session,
                    role=estimator.role if estimator else model_entity.role,
                    model_data=model_entity.model_data,
                    entry_point=model_entity.entry_point,
                    source_dir=model_entity.source_dir,
                    dependencies=model_entity.dependencies,
                    tags=tags,
                    subnets=subnets,
                    security_group_ids=security_group_ids,
                    description=description,
                    display_name=display_name,
                    output_kms_key=model_entity.model_kms_key,
                    **kwargs,
                )
                steps.append(repack_model_step)
                model_entity.model_data = repack_model_step.properties.ModelArtifacts.S3ModelArtifacts
            instance_type = inference_instances[0] if inference_instances else None
            if isinstance(model, PipelineModel):
                self.container_def_list = model.pipeline_container_def(instance_type)
            else:
                self.container_def_list = [model.prepare_container_def(instance_type)]
            self.container_def_list = update_container_with_inference_params(
                framework=framework,
                framework_version=framework_version,
                nearest_model_name=nearest_model_name,
                data_input_configuration=data_input_configuration,
                container_list=self.container_def_list,
            )
        register_model_step = _RegisterModelStep(
            name=f"{self.name}-{self._REGISTER_MODEL_NAME_BASE}",
            estimator=estimator,
            model_data=model_data,
            content_types=content_types,
            response_types=response_types,
            inference_instances=inference_instances,
            transform_instances=transform_instances,
            model_package_group_name=model_package_group_name,
            model_metrics=model_metrics,
            drift_check_baselines=drift_check_baselines,
            approval_status=approval_status,
            image_uri=image_uri,
            compile_model_family=compile_model_family,
            description=description,
            display_name=display_name,
            tags=tags,
            container_def_list=self.container_def_list,
            retry_policies=register_model_step_retry_policies,
            customer_metadata_properties=customer_metadata_properties,
            domain=domain,
            sample_payload_url=sample_payload_url,
            task=task,
            skip_model_validation=skip_model_validation,
            source_uri=source_uri,
            model_card=model_card,
            model_life_cycle=model_life_cycle,
            model_package_registration_type=model_package_registration_type,
            base_model=base_model,
            **kwargs,
        )
        if not repack_model:
            register_model_step.add_depends_on(depends_on)
        steps.append(register_model_step)
        self.steps = steps
        warnings.warn(
            "We are deprecating the use of RegisterModel. Please use the ModelStep instead.",
            DeprecationWarning,
            stacklevel=2,
        )


class EstimatorTransformer(StepCollection):
    """Creates a Transformer step collection for workflow (``<name>CreateModelStep``, ``<name>TransformStep``)."""

    def __init__(
        self,
        name: str,
        estimator,
        model_data,
        model_inputs,
        instance_count,
        instance_type,
        transform_inputs,
        description: Optional[str] = None,
        display_name: Optional[str] = None,
        image_uri=None,
        predictor_cls=None,
        env=None,
        strategy=None,
        assemble_with=None,
        output_path=None,
        output_kms_key=None,
        accept=None,
        max_concurrent_transforms=None,
        max_payload=None,
        tags=None,
        volume_kms_key=None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
        repack_model_step_retry_policies=None,
        model_step_retry_policies=None,
        transform_step_retry_policies=None,
        **kwargs,
    ):
        """Construct steps required for a Transformer step collection (repack, model, transform).

        Args:
            name (str): The name of the collection.
            estimator (EstimatorBase): The estimator whose image, role and session are used.
            model_data: The S3 location of the model artifacts.
            model_inputs (CreateModelInput): The model's instance and accelerator type.
            instance_count, instance_type: The transform resources.
            transform_inputs (TransformInput): The transform input.
            Other arguments: as ``Model`` and ``Transformer``; ``entry_point=`` in kwargs adds
                a ``<name>RepackModel`` step.
        """
        from sagepipe.model import Model
        from sagepipe.transformer import Transformer
        from sagepipe.workflow._utils import _RepackModelStep
        from sagepipe.workflow.steps import CreateModelStep, TransformStep

        super().__init__(name=name, depends_on=depends_on)
        steps = []
        if "entry_point" in kwargs:
            repack_model_step = _RepackModelStep(
                name=f"{name}RepackModel",
                depends_on=depends_on,
                retry_policies=repack_model_step_retry_policies,
                sagemaker_session=estimator.sagemaker_session,
                role=estimator.role,
                model_data=model_data,
                entry_point=kwargs.get("entry_point", None),
                source_dir=kwargs.get("source_dir", None),
                dependencies=kwargs.get("dependencies", None),
                tags=tags,
                subnets=estimator.subnets,
                security_group_ids=estimator.security_group_ids,
                description=description,
                display_name=display_name,
                output_kms_key=estimator.output_kms_key,
            )
            steps.append(repack_model_step)
            model_data = repack_model_step.properties.ModelArtifacts.S3ModelArtifacts
        model = Model(
            image_uri=image_uri or estimator.training_image_uri(),
            model_data=model_data,
            predictor_cls=predictor_cls,
            vpc_config=None,
            sagemaker_session=estimator.sagemaker_session,
            role=estimator.role,
            env=kwargs.get("env", None),
            name=kwargs.get("name", None),
            enable_network_isolation=kwargs.get("enable_network_isolation", None),
            model_kms_key=kwargs.get("model_kms_key", None),
            image_config=kwargs.get("image_config", None),
        )
        model_step = CreateModelStep(
            name=f"{name}CreateModelStep",
            model=model,
            inputs=model_inputs,
            description=description,
            display_name=display_name,
            retry_policies=model_step_retry_policies,
        )
        if "entry_point" not in kwargs and depends_on:
            model_step.add_depends_on(depends_on)
        steps.append(model_step)
        transformer = Transformer(
            model_name=model_step.properties.ModelName,
            instance_count=instance_count,
            instance_type=instance_type,
            strategy=strategy,
            assemble_with=assemble_with,
            output_path=output_path,
            output_kms_key=output_kms_key,
            accept=accept,
            max_concurrent_transforms=max_concurrent_transforms,
            max_payload=max_payload,
            env=env,
            tags=tags,
            base_transform_job_name=name,
            volume_kms_key=volume_kms_key,
            sagemaker_session=estimator.sagemaker_session,
        )
        transform_step = TransformStep(
            name=f"{name}TransformStep",
            transformer=transformer,
            inputs=transform_inputs,
            description=description,
            display_name=display_name,
            retry_policies=transform_step_retry_policies,
        )
        steps.append(transform_step)
        self.steps = steps
