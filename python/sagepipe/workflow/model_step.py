"""The `ModelStep` definition for SageMaker Pipelines Workflows (mirror of ``sagemaker.workflow.model_step``).

A ``ModelStep`` is a step collection built from ``model.create()`` or ``model.register()`` step
arguments: ``<name>-CreateModel`` (Type ``Model``) or ``<name>-RegisterModel`` (Type
``RegisterModel``), preceded by ``<name>-RepackModel-<i>`` when the model's code has to be repacked
into its artifacts at run time.
"""

import logging
from typing import Dict, List, Optional, Union

from sagepipe.workflow._utils import _RegisterModelStep, _RepackModelStep
from sagepipe.workflow.pipeline_context import PipelineSession, _ModelStepArguments
from sagepipe.workflow.retry import RetryPolicy, SageMakerJobStepRetryPolicy
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import CreateModelStep, Step
from sagepipe.workflow.utilities import log_warning_once

_CREATE_MODEL_RETRY_POLICIES = "create_model_retry_policies"
_REGISTER_MODEL_RETRY_POLICIES = "register_model_retry_policies"
_REPACK_MODEL_RETRY_POLICIES = "repack_model_retry_policies"
_REGISTER_MODEL_NAME_BASE = "RegisterModel"
_CREATE_MODEL_NAME_BASE = "CreateModel"
_REPACK_MODEL_NAME_BASE = "RepackModel"
_IGNORED_REPACK_PARAM_LIST = ["entry_point", "source_dir", "hyperparameters", "dependencies"]

logger = logging.getLogger(__name__)


class ModelStep(StepCollection):
    """`ModelStep` for SageMaker Pipelines Workflows."""

    def __init__(
        self,
        name: str,
        step_args: _ModelStepArguments,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
        retry_policies: Optional[Union[List[RetryPolicy], Dict[str, List[RetryPolicy]]]] = None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        repack_model_step_settings: Optional[Dict[str, any]] = None,
    ):
        """Constructs a `ModelStep`.

        Args:
            name (str): The name of the `ModelStep` (sub-steps get ``-CreateModel``,
                ``-RegisterModel`` or ``-RepackModel-<i>`` appended).
            step_args (_ModelStepArguments): The result of ``model.create()`` or
                ``model.register()`` under a PipelineSession.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.
            retry_policies (List[RetryPolicy] or Dict[str, List[RetryPolicy]]): Retry policies of
                all sub-steps, or per kind (``create_model_retry_policies``,
                ``register_model_retry_policies``, ``repack_model_retry_policies``).
            display_name (str): The display name of the sub-steps.
            description (str): The description of the sub-steps.
            repack_model_step_settings (Dict[str, any]): Extra arguments of the repack estimator.

        Raises:
            TypeError: ``step_args`` is not from ``create()``/``register()``, or the model's
                session is not a PipelineSession.
            ValueError: Both or neither of a create and a register request, or a
                ``SageMakerJobStepRetryPolicy`` for the create/register step.
        """
        from sagepipe.workflow.utilities import validate_step_args_input

        validate_step_args_input(
            step_args=step_args,
            expected_caller={"create_model", "create_model_package_from_containers"},
            error_message="The step_args of ModelStep must be obtained from model.create() or model.register().",
        )
        if not (step_args.create_model_request is None) ^ (step_args.create_model_package_request is None):
            raise ValueError(
                "Invalid step_args: either _register_model_args or _create_model_args should be provided. They are "
                "mutually exclusive. Please use the model's .create() or .register() method to generate the "
                "step_args under PipelineSession."
            )
        if not isinstance(step_args.model.sagemaker_session, PipelineSession):
            raise TypeError(
                "To correctly configure a ModelStep, the sagemaker_session of the model must be a "
                "PipelineSession object."
            )
        super().__init__(name=name, depends_on=depends_on)
        self.step_args = step_args
        self.retry_policies = retry_policies
        self.display_name = display_name
        self.description = description
        self.steps: List[Step] = []
        self._repack_model_step_settings = dict(repack_model_step_settings) if repack_model_step_settings else {}
        self._model = step_args.model
        self._create_model_args = step_args.create_model_request
        self._register_model_args = step_args.create_model_package_request
        self._need_runtime_repack = step_args.need_runtime_repack
        self._runtime_repack_output_prefix = step_args.runtime_repack_output_prefix
        self._assign_and_validate_retry_policies(retry_policies)
        if self._need_runtime_repack:
            self._append_repack_model_step()
        if self._register_model_args:
            self._append_register_model_step()
        else:
            self._append_create_model_step()

    def _assign_and_validate_retry_policies(self, retry_policies):
        if isinstance(retry_policies, dict):
            self._create_model_retry_policies = retry_policies.get(_CREATE_MODEL_RETRY_POLICIES, None)
            self._register_model_retry_policies = retry_policies.get(_REGISTER_MODEL_RETRY_POLICIES, None)
            self._repack_model_retry_policies = retry_policies.get(_REPACK_MODEL_RETRY_POLICIES, None)
        else:
            self._create_model_retry_policies = retry_policies
            self._register_model_retry_policies = retry_policies
            self._repack_model_retry_policies = retry_policies
        for policy in (self._create_model_retry_policies or []) + (self._register_model_retry_policies or []):
            if isinstance(policy, SageMakerJobStepRetryPolicy):
                raise ValueError(
                    "SageMakerJobStepRetryPolicy is not allowed for a create/register model step. "
                    "Please use StepRetryPolicy instead"
                )

    def _append_register_model_step(self):
        register_model_step = _RegisterModelStep(
            name=f"{self.name}-{_REGISTER_MODEL_NAME_BASE}",
            step_args=self._register_model_args,
            display_name=self.display_name,
            retry_policies=self._register_model_retry_policies,
            description=self.description,
        )
        if not self._need_runtime_repack:
            register_model_step.add_depends_on(self.depends_on)
        self.steps.append(register_model_step)

    def _append_create_model_step(self):
        create_model_step = _ModelStepCreateModel(
            name=f"{self.name}-{_CREATE_MODEL_NAME_BASE}",
            step_args=self._create_model_args,
            retry_policies=self._create_model_retry_policies,
            display_name=self.display_name,
            description=self.description,
        )
        if not self._need_runtime_repack:
            create_model_step.add_depends_on(self.depends_on)
        self.steps.append(create_model_step)

    def _append_repack_model_step(self):
        for ignored_param in _IGNORED_REPACK_PARAM_LIST:
            if self._repack_model_step_settings.pop(ignored_param, None):
                log_warning_once(
                    logger, "The repack model step parameter - %s is not configurable. Ignoring it.", ignored_param
                )
        security_group_ids, subnets = self._resolve_repack_model_step_vpc_configs()
        from sagepipe.pipeline import PipelineModel

        is_pipeline_model = isinstance(self._model, PipelineModel)
        for i, model in enumerate(self._model.models if is_pipeline_model else [self._model]):
            if id(model) not in self._need_runtime_repack:
                continue
            name_base = model.name or i
            settings = self._repack_model_step_settings
            repack_model_step = _RepackModelStep(
                name=f"{self.name}-{_REPACK_MODEL_NAME_BASE}-{name_base}",
                sagemaker_session=settings.pop("sagemaker_session", None)
                or self._model.sagemaker_session
                or model.sagemaker_session,
                role=settings.pop("role", None) or self._model.role or model.role,
                model_data=model.model_data,
                entry_point=model.entry_point,
                source_dir=model.source_dir,
                dependencies=model.dependencies,
                subnets=subnets,
                security_group_ids=security_group_ids,
                description="Used to repack a model with customer scripts for a register/create model step",
                depends_on=self.depends_on,
                retry_policies=self._repack_model_retry_policies,
                output_path=settings.pop("output_path", None) or self._runtime_repack_output_prefix,
                output_kms_key=settings.pop("output_kms_key", None) or model.model_kms_key,
                **settings,
            )
            self.steps.append(repack_model_step)
            repacked_model_data = repack_model_step.properties.ModelArtifacts.S3ModelArtifacts
            if self._create_model_args:
                container = self._create_model_args["Containers" if is_pipeline_model else "PrimaryContainer"]
                container = container[i] if is_pipeline_model else container
            else:
                container = self._register_model_args["InferenceSpecification"]["Containers"][i]
            container["ModelDataUrl"] = repacked_model_data

    def _resolve_repack_model_step_vpc_configs(self):
        settings = self._repack_model_step_settings
        if settings.get("security_group_ids", None) or settings.get("subnets", None):
            return settings.pop("security_group_ids", None), settings.pop("subnets", None)
        if self._model.vpc_config:
            return self._model.vpc_config.get("SecurityGroupIds", None), self._model.vpc_config.get("Subnets", None)
        return None, None


class _ModelStepCreateModel(CreateModelStep):
    """The CreateModel step of a ``ModelStep``: no deprecation notice (the user wrote ModelStep)."""

    _deprecation_notice = False
