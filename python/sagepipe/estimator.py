"""Training jobs (mirror of ``sagemaker.estimator``: ``EstimatorBase``, ``Estimator``, ``Framework``).

``fit()`` under a ``PipelineSession`` returns step arguments for a ``TrainingStep``; the
``CreateTrainingJob`` request is built at definition time exactly as the SDK builds it. In script
mode (``entry_point``/``source_dir``) the code is packed into ``sourcedir.tar.gz``, uploaded into
the store at ``s3://<bucket>/<pipeline>/code/<hash>/sourcedir.tar.gz`` and named by the
``sagemaker_program`` / ``sagemaker_submit_directory`` hyperparameters. Outside a pipeline session
``fit()`` raises: sagepipe runs jobs only as pipeline steps.
"""

import json
import logging
import os
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Union

from sagepipe import s3
from sagepipe.debugger import (
    DEBUGGER_UNSUPPORTED_REGIONS,
    PROFILER_UNSUPPORTED_REGIONS,
    DebuggerHookConfig,
    ProfilerConfig,
    TensorBoardOutputConfig,
)
from sagepipe.fw_utils import (
    UploadedCode,
    tar_and_upload_dir,
    validate_source_code_input_against_pipeline_variables,
    validate_source_dir,
)
from sagepipe.image_uris import _instance_type_family
from sagepipe.inputs import FileInput, FileSystemInput, TrainingInput
from sagepipe.model import (
    CONTAINER_LOG_LEVEL_PARAM_NAME,
    DIR_PARAM_NAME,
    JOB_NAME_PARAM_NAME,
    SAGEMAKER_REGION_PARAM_NAME,
    SCRIPT_PARAM_NAME,
)
from sagepipe.session import session_or_default
from sagepipe.utils import base_name_from_image, name_from_base, to_string
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.entities import PipelineVariable
from sagepipe.workflow.pipeline_context import PipelineSession, runnable_by_pipeline

logger = logging.getLogger(__name__)


__all__ = ["Estimator", "EstimatorBase", "Framework"]


def _unsupported(feature: str, hint: str = "") -> NotImplementedError:
    return NotImplementedError(f"{feature} is not supported by sagepipe training jobs.{' ' + hint if hint else ''}")


class EstimatorBase(ABC):
    """Handle end-to-end Amazon SageMaker training and deployment tasks (the job-building half)."""

    CONTAINER_CODE_CHANNEL_SOURCEDIR_PATH = "/opt/ml/input/data/code/sourcedir.tar.gz"
    JOB_CLASS_NAME = "training-job"

    def __init__(
        self,
        role: str = None,
        instance_count: Optional[Union[int, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = None,
        keep_alive_period_in_seconds: Optional[Union[int, PipelineVariable]] = None,
        volume_size: Union[int, PipelineVariable] = 30,
        volume_kms_key: Optional[Union[str, PipelineVariable]] = None,
        max_run: Union[int, PipelineVariable] = 24 * 60 * 60,
        input_mode: Union[str, PipelineVariable] = "File",
        output_path: Optional[Union[str, PipelineVariable]] = None,
        output_kms_key: Optional[Union[str, PipelineVariable]] = None,
        base_job_name: Optional[str] = None,
        sagemaker_session=None,
        tags=None,
        subnets: Optional[List[Union[str, PipelineVariable]]] = None,
        security_group_ids: Optional[List[Union[str, PipelineVariable]]] = None,
        model_uri: Optional[str] = None,
        model_channel_name: Union[str, PipelineVariable] = "model",
        metric_definitions: Optional[List[Dict[str, Union[str, PipelineVariable]]]] = None,
        encrypt_inter_container_traffic: Union[bool, PipelineVariable] = None,
        use_spot_instances: Union[bool, PipelineVariable] = False,
        max_wait: Optional[Union[int, PipelineVariable]] = None,
        checkpoint_s3_uri: Optional[Union[str, PipelineVariable]] = None,
        checkpoint_local_path: Optional[Union[str, PipelineVariable]] = None,
        rules: Optional[list] = None,
        debugger_hook_config: Optional[Union[bool, DebuggerHookConfig]] = None,
        tensorboard_output_config: Optional[TensorBoardOutputConfig] = None,
        enable_sagemaker_metrics: Optional[Union[bool, PipelineVariable]] = None,
        enable_network_isolation: Union[bool, PipelineVariable] = None,
        profiler_config: Optional[ProfilerConfig] = None,
        disable_profiler: bool = None,
        environment: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        max_retry_attempts: Optional[Union[int, PipelineVariable]] = None,
        source_dir: Optional[Union[str, PipelineVariable]] = None,
        git_config: Optional[Dict[str, str]] = None,
        hyperparameters: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        container_log_level: Union[int, PipelineVariable] = logging.INFO,
        code_location: Optional[str] = None,
        entry_point: Optional[Union[str, PipelineVariable]] = None,
        dependencies: Optional[List[str]] = None,
        instance_groups: Optional[list] = None,
        training_repository_access_mode: Optional[Union[str, PipelineVariable]] = None,
        training_repository_credentials_provider_arn: Optional[Union[str, PipelineVariable]] = None,
        enable_infra_check: Optional[Union[bool, PipelineVariable]] = None,
        container_entry_point: Optional[List[str]] = None,
        container_arguments: Optional[List[str]] = None,
        disable_output_compression: bool = False,
        enable_remote_debug: Optional[Union[bool, PipelineVariable]] = None,
        enable_session_tag_chaining: Optional[Union[bool, PipelineVariable]] = None,
        training_plan: Optional[Union[str, PipelineVariable]] = None,
        instance_placement_config: Optional[Dict] = None,
        **kwargs,
    ):
        """Initialize an ``EstimatorBase`` instance.

        Arguments are those of the SDK's ``EstimatorBase``; they shape the
        ``CreateTrainingJob`` request. Locally, instance types and counts, KMS keys, VPC
        settings, spot and checkpoint settings are recorded in the definition only.

        Raises:
            ValueError: No role was given.
            NotImplementedError: ``git_config``, ``rules`` or ``instance_groups`` (not
                supported locally).
        """
        for old, new in (
            ("train_instance_count", "instance_count"),
            ("train_instance_type", "instance_type"),
            ("train_max_run", "max_run"),
            ("train_use_spot_instances", "use_spot_instances"),
            ("train_max_wait", "max_wait"),
            ("train_volume_size", "volume_size"),
            ("train_volume_kms_key", "volume_kms_key"),
        ):
            if old in kwargs:
                raise ValueError(f"the {old} argument was renamed to {new} in SDK v2")
        if git_config:
            raise _unsupported("git_config", "Check the repository out and pass source_dir=.")
        if rules:
            raise _unsupported("Debugger/Profiler rules (rules=)")
        if instance_groups is not None:
            raise _unsupported("instance_groups (heterogeneous clusters)")
        self.instance_count = instance_count
        self.instance_type = instance_type
        self.keep_alive_period_in_seconds = keep_alive_period_in_seconds
        self.instance_groups = instance_groups
        self.volume_size = volume_size
        self.max_run = max_run
        self.input_mode = input_mode
        self.metric_definitions = metric_definitions
        self.model_uri = model_uri
        self.model_channel_name = model_channel_name
        self.code_uri = None
        self.code_channel_name = "code"
        self.source_dir = source_dir
        self.git_config = git_config
        self.container_log_level = container_log_level
        self._hyperparameters = hyperparameters.copy() if hyperparameters else {}
        self.code_location = code_location
        self.entry_point = entry_point
        self.dependencies = dependencies or []
        self.uploaded_code: Optional[UploadedCode] = None
        if (subnets is None) != (security_group_ids is None):
            raise RuntimeError("When setting up custom VPC, both subnets and security_group_ids must be set")
        sagemaker_session = session_or_default(sagemaker_session)
        self.sagemaker_session = sagemaker_session
        self.tags = tags
        self.base_job_name = base_job_name
        self._current_job_name = None
        if (
            not self.sagemaker_session.local_mode
            and output_path
            and not is_pipeline_variable(output_path)
            and output_path.startswith("file://")
        ):
            raise RuntimeError(
                "The 'file://' output paths are only supported when using Local Mode "
                "(a LocalPipelineSession). Use an 's3://' output path (it maps into the sagepipe store)."
            )
        self.output_path = output_path
        self.latest_training_job = None
        self.jobs = []
        # What the caller left out comes from the SageMaker config here, when the estimator is
        # made (as the SDK), so every form (fit under a PipelineSession, TrainingStep(estimator=),
        # tuners) carries the defaults.
        from sagepipe import config

        session = self.sagemaker_session
        self.role = config.resolve_value_from_config(role, config.TRAINING_JOB_ROLE_ARN_PATH, None, session)
        if not self.role:
            raise ValueError(
                "An AWS IAM role is required to create an estimator. Please provide a valid `role` argument "
                "(any ARN: it is recorded, never used locally)."
            )
        self.output_kms_key = config.resolve_value_from_config(
            output_kms_key, config.TRAINING_JOB_KMS_KEY_ID_PATH, None, session
        )
        # The config's volume key only where a KMS key can be attached to the instance volume.
        self.volume_kms_key = (
            config.resolve_value_from_config(volume_kms_key, config.TRAINING_JOB_VOLUME_KMS_KEY_ID_PATH, None, session)
            if instance_type is not None and _instance_supports_kms(instance_type)
            else volume_kms_key
        )
        self.subnets = config.resolve_value_from_config(subnets, config.TRAINING_JOB_SUBNETS_PATH, None, session)
        self.security_group_ids = config.resolve_value_from_config(
            security_group_ids, config.TRAINING_JOB_SECURITY_GROUP_IDS_PATH, None, session
        )
        self.training_repository_access_mode = training_repository_access_mode
        self.training_repository_credentials_provider_arn = training_repository_credentials_provider_arn
        self.enable_infra_check = enable_infra_check
        self.container_entry_point = container_entry_point
        self.container_arguments = container_arguments
        self.encrypt_inter_container_traffic = config.resolve_value_from_config(
            encrypt_inter_container_traffic, config.TRAINING_JOB_INTER_CONTAINER_ENCRYPTION_PATH, False, session
        )
        self.use_spot_instances = use_spot_instances
        self.max_wait = max_wait
        self.checkpoint_s3_uri = checkpoint_s3_uri
        self.checkpoint_local_path = checkpoint_local_path
        self.rules = rules
        self.debugger_hook_config = {} if debugger_hook_config is True else debugger_hook_config
        self.tensorboard_output_config = tensorboard_output_config
        self.debugger_rule_configs, self.collection_configs = None, None
        self.enable_sagemaker_metrics = enable_sagemaker_metrics
        self._enable_network_isolation = config.resolve_value_from_config(
            enable_network_isolation, config.TRAINING_JOB_ENABLE_NETWORK_ISOLATION_PATH, False, session
        )
        self.profiler_rule_configs, self.profiler_rules = None, None
        self.profiler_config = profiler_config
        self.disable_profiler = config.resolve_value_from_config(
            disable_profiler, config.TRAINING_JOB_DISABLE_PROFILER_PATH, False, session
        )
        self.environment = config.resolve_value_from_config(
            environment, config.TRAINING_JOB_ENVIRONMENT_PATH, None, session
        )
        self.max_retry_attempts = max_retry_attempts
        region = self.sagemaker_session.boto_region_name
        if region.lower() in PROFILER_UNSUPPORTED_REGIONS or _instance_type_is_trainium(self.instance_type):
            self.disable_profiler = True
        self.debugger_rules = None
        self.disable_output_compression = disable_output_compression
        validate_source_code_input_against_pipeline_variables(
            entry_point=entry_point,
            source_dir=source_dir,
            git_config=git_config,
            enable_network_isolation=self._enable_network_isolation,
        )
        self.training_plan = training_plan
        self.instance_placement_config = instance_placement_config
        self._is_output_path_set_from_default_bucket_and_prefix = False
        self._enable_remote_debug = enable_remote_debug
        self._enable_session_tag_chaining = enable_session_tag_chaining

    @abstractmethod
    def training_image_uri(self):
        """Return the Docker image to use for training."""

    @abstractmethod
    def hyperparameters(self):
        """Return the hyperparameters as a dictionary to use for training."""

    def enable_network_isolation(self):
        """Return True if this Estimator will need network isolation to run."""
        return self._enable_network_isolation

    def prepare_workflow_for_training(self, job_name=None):
        """Calls _prepare_for_training. Used when setting up a workflow."""
        self._prepare_for_training(job_name=job_name)

    def _ensure_base_job_name(self):
        self.base_job_name = self.base_job_name or base_name_from_image(
            self.training_image_uri(), default_base_name=EstimatorBase.JOB_CLASS_NAME
        )

    def _get_or_create_name(self, name=None):
        if name:
            return name
        self._ensure_base_job_name()
        return name_from_base(self.base_job_name)

    @staticmethod
    def _json_encode_hyperparameters(hyperparameters: Dict[str, Any]) -> Dict[str, Any]:
        if hyperparameters is None:
            return None
        return {str(k): v.to_string() if is_pipeline_variable(v) else json.dumps(v) for k, v in hyperparameters.items()}

    def _prepare_for_training(self, job_name=None):
        """Set the job name, default output path, packed code and debugger/profiler configs."""
        self._current_job_name = self._get_or_create_name(job_name)
        if self.output_path is None:
            self.output_path = s3.default_bucket_uri(self.sagemaker_session, with_end_slash=True)
            self._is_output_path_set_from_default_bucket_and_prefix = True
        if self.source_dir or self.entry_point or (self.dependencies and len(self.dependencies) > 0):
            if (
                self.source_dir
                and not is_pipeline_variable(self.source_dir)
                and not self.source_dir.lower().startswith("s3://")
            ):
                validate_source_dir(self.entry_point, self.source_dir)
            self.uploaded_code = self._stage_user_code_in_s3()
            if self.enable_network_isolation() and self.entry_point:
                code_dir = self.CONTAINER_CODE_CHANNEL_SOURCEDIR_PATH
                self.code_uri = self.uploaded_code.s3_prefix
            else:
                code_dir = self.uploaded_code.s3_prefix
            self._script_mode_hyperparam_update(code_dir, self.uploaded_code.script_name)
        self._prepare_rules()
        self._prepare_debugger_for_training()
        self._prepare_profiler_for_training()

    def _script_mode_hyperparam_update(self, code_dir: str, script: str) -> None:
        hyperparams = {
            DIR_PARAM_NAME: code_dir,
            SCRIPT_PARAM_NAME: script,
            CONTAINER_LOG_LEVEL_PARAM_NAME: self.container_log_level,
            JOB_NAME_PARAM_NAME: self._current_job_name,
            SAGEMAKER_REGION_PARAM_NAME: self.sagemaker_session.boto_region_name,
        }
        self._hyperparameters.update(EstimatorBase._json_encode_hyperparameters(hyperparams))

    def _stage_user_code_in_s3(self) -> UploadedCode:
        """Pack the code into ``sourcedir.tar.gz`` and upload it (SDK bucket and prefix rules)."""
        session = self.sagemaker_session
        if is_pipeline_variable(self.output_path) or self.output_path.startswith("file://"):
            if self.code_location is None:
                code_bucket = session.default_bucket()
                code_s3_prefix = self._assign_s3_prefix(session.default_bucket_prefix)
            else:
                code_bucket, key_prefix = s3.parse_s3_url(self.code_location)
                code_s3_prefix = self._assign_s3_prefix(key_prefix)
        elif self.code_location is None:
            code_bucket, possible_key_prefix = s3.parse_s3_url(self.output_path)
            if self._is_output_path_set_from_default_bucket_and_prefix:
                code_s3_prefix = self._assign_s3_prefix(possible_key_prefix)
            else:
                code_s3_prefix = self._assign_s3_prefix()
        else:
            code_bucket, key_prefix = s3.parse_s3_url(self.code_location)
            code_s3_prefix = self._assign_s3_prefix(key_prefix)
        return tar_and_upload_dir(
            session=session,
            bucket=code_bucket,
            s3_key_prefix=code_s3_prefix,
            script=self.entry_point,
            directory=self.source_dir,
            dependencies=self.dependencies,
        )

    def _assign_s3_prefix(self, key_prefix=""):
        from sagepipe.workflow.utilities import _pipeline_config

        if _pipeline_config and _pipeline_config.code_hash:
            return s3.s3_path_join(key_prefix, _pipeline_config.pipeline_name, "code", _pipeline_config.code_hash)
        return s3.s3_path_join(key_prefix, self._current_job_name, "source")

    def _prepare_rules(self):
        self.debugger_rules = []
        self.profiler_rules = []

    def _prepare_debugger_for_training(self):
        if self.debugger_hook_config and not self.debugger_hook_config.s3_output_path:
            self.debugger_hook_config.s3_output_path = self.output_path
        self.debugger_rule_configs = []
        self.collection_configs = set()
        if self.debugger_hook_config:
            self.collection_configs.update(self.debugger_hook_config.collection_configs or [])
        self._validate_and_set_debugger_configs()

    def _validate_and_set_debugger_configs(self):
        if self.sagemaker_session.boto_region_name.lower() not in DEBUGGER_UNSUPPORTED_REGIONS:
            if self.debugger_hook_config in [None, {}]:
                self.debugger_hook_config = DebuggerHookConfig(s3_output_path=self.output_path)
        else:
            if self.debugger_hook_config is not False and self.debugger_hook_config:
                raise ValueError("Current region does not support debugger but debugger hook config is set!")
            self.debugger_hook_config = False

    def _prepare_profiler_for_training(self):
        if self.disable_profiler:
            if self.profiler_config and not self.profiler_config.disable_profiler:
                raise RuntimeError("profiler_config.disable_profiler cannot be False when disable_profiler is True.")
        elif self.sagemaker_session.boto_region_name.lower() not in PROFILER_UNSUPPORTED_REGIONS:
            if self.profiler_config is None:
                self.profiler_config = ProfilerConfig(s3_output_path=self.output_path)
        if self.profiler_config and not self.profiler_config.s3_output_path:
            self.profiler_config.s3_output_path = self.output_path
        self.profiler_rule_configs = []
        if self.profiler_config is None:
            self.profiler_config = ProfilerConfig(disable_profiler=True)

    @runnable_by_pipeline
    def fit(
        self,
        inputs: Optional[Union[str, Dict, TrainingInput, FileSystemInput]] = None,
        wait: bool = True,
        logs: str = "All",
        job_name: Optional[str] = None,
        experiment_config: Optional[Dict[str, str]] = None,
    ):
        """Train a model (under a ``PipelineSession``: return ``TrainingStep`` arguments).

        Args:
            inputs (str or dict or TrainingInput or FileSystemInput): Information about the
                training data: an S3 URI (channel ``training``), a dict of channel name to URI or
                ``TrainingInput``, a ``TrainingInput``, or (LocalPipelineSession only) ``file://``.
            wait (bool): Forced to False under a pipeline session.
            logs (str): Forced to False under a pipeline session.
            job_name (str): Training job name (popped from the step definition).
            experiment_config (dict[str, str]): Experiment management configuration.
        """
        self._prepare_for_training(job_name=job_name)
        self.latest_training_job = _TrainingJob.start_new(self, inputs, experiment_config)
        self.jobs.append(self.latest_training_job)

    @property
    def model_data(self):
        """The model location the training job will produce (``<output>/<job>/output/model.tar.gz``)."""
        return os.path.join(self.output_path, self._current_job_name, "output", "model.tar.gz")

    @abstractmethod
    def create_model(self, **kwargs):
        """Create a SageMaker ``Model`` object that can be deployed to an ``Endpoint``."""

    def get_vpc_config(self, vpc_config_override="VPC_CONFIG_DEFAULT"):
        """Returns VpcConfig dict either from this Estimator's subnets and security groups."""
        if vpc_config_override == "VPC_CONFIG_DEFAULT":
            if self.subnets is None or self.security_group_ids is None:
                return None
            return {"Subnets": self.subnets, "SecurityGroupIds": self.security_group_ids}
        return vpc_config_override

    def get_remote_debug_config(self):
        """Return the remote debug config of the training job, if set."""
        return None if self._enable_remote_debug is None else {"EnableRemoteDebug": self._enable_remote_debug}

    def get_session_chaining_config(self):
        """Return the session tag chaining config of the training job, if set."""
        if self._enable_session_tag_chaining is None:
            return None
        return {"EnableSessionTagChaining": self._enable_session_tag_chaining}

    def transformer(
        self,
        instance_count: Union[int, PipelineVariable],
        instance_type: Union[str, PipelineVariable],
        strategy: Optional[Union[str, PipelineVariable]] = None,
        assemble_with: Optional[Union[str, PipelineVariable]] = None,
        output_path: Optional[Union[str, PipelineVariable]] = None,
        output_kms_key: Optional[Union[str, PipelineVariable]] = None,
        accept: Optional[Union[str, PipelineVariable]] = None,
        env: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        max_concurrent_transforms: Optional[Union[int, PipelineVariable]] = None,
        max_payload: Optional[Union[int, PipelineVariable]] = None,
        tags=None,
        role: Optional[str] = None,
        volume_kms_key: Optional[Union[str, PipelineVariable]] = None,
        vpc_config_override="VPC_CONFIG_DEFAULT",
        enable_network_isolation: Optional[bool] = None,
        model_name: Optional[Union[str, PipelineVariable]] = None,
    ):
        """Return a ``Transformer`` for batch transform with a model of this estimator.

        As the SDK does for an estimator with no finished training job (the workflow case: in
        sagepipe training jobs run only as pipeline steps), no model is created here: the
        transformer uses ``model_name``, typically the ``ModelName`` property of the
        ``ModelStep`` that creates the model (``model_step.properties.ModelName``), or else the
        name of the estimator's current job.

        Args:
            instance_count, instance_type: Resources of the transform job (recorded).
            strategy, assemble_with, output_path, output_kms_key, accept, env,
            max_concurrent_transforms, max_payload, tags, volume_kms_key: As for
                :class:`sagepipe.transformer.Transformer` (``tags`` default to the estimator's).
            role, vpc_config_override, enable_network_isolation: Settings of the model the SDK
                creates from a finished training job; unused here (no model is created).
            model_name (str or PipelineVariable): The model to transform with.

        Raises:
            ValueError: No ``model_name`` was given and the estimator has no current job.
        """
        from sagepipe.transformer import Transformer

        model_name = model_name if model_name is not None else self._current_job_name
        if model_name is None:
            raise ValueError(
                "Estimator.transformer() needs model_name=: sagepipe runs training jobs only as pipeline steps, "
                "so pass the model of a ModelStep, e.g. model_name=model_step.properties.ModelName "
                "(model = estimator.create_model(); model_step = ModelStep(step_args=model.create(...)))."
            )
        return Transformer(
            model_name,
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
            tags=tags or self.tags,
            base_transform_job_name=self.base_job_name,
            volume_kms_key=volume_kms_key,
            sagemaker_session=self.sagemaker_session,
        )

    def register(self, *args, **kwargs):
        """Not available under a pipeline: use ``Model(...).register()`` with a ``ModelStep`` (as the SDK says)."""
        raise TypeError(
            "estimator.register does not support PipelineSession at this moment. Please use model.register "
            "with PipelineSession if you're using the ModelStep."
        )


def _instance_type_is_trainium(instance_type) -> bool:
    return _instance_type_family(instance_type).startswith("trn")


def _instance_supports_kms(instance_type) -> bool:
    """Whether a KMS key can be attached to the instance's volume (as the SDK decides it).

    Instances with local NVMe storage (a ``d`` in the family, g5, g6, p5, trn1) and local mode
    have no attachable volume; an instance type given as a pipeline variable is assumed to.
    """
    if is_pipeline_variable(instance_type):
        return True
    family = _instance_type_family(instance_type)
    if not family:
        return False
    return "d" not in family and not family.startswith(("g5", "g6", "p5", "trn1"))


class _TrainingJob:
    """The request-building half of the SDK's ``_TrainingJob``."""

    def __init__(self, sagemaker_session, job_name):
        self.sagemaker_session = sagemaker_session
        self.job_name = job_name

    @property
    def name(self):
        """The job name."""
        return self.job_name

    @classmethod
    def start_new(cls, estimator, inputs, experiment_config):
        """Build the ``CreateTrainingJob`` request and hand it to the session."""
        train_args = cls._get_train_args(estimator, inputs, experiment_config)
        estimator.sagemaker_session.train(**train_args)
        return cls(estimator.sagemaker_session, estimator._current_job_name)

    @classmethod
    def _get_train_args(cls, estimator, inputs, experiment_config):
        local_mode = estimator.sagemaker_session.local_mode
        if (_is_local_channel(inputs) or _is_local_channel(estimator.model_uri)) and not local_mode:
            raise ValueError(
                "File URIs are supported in local mode only (a LocalPipelineSession). Please use a S3 URI instead "
                "(s3:// URIs map into the sagepipe store)."
            )
        config = _load_config(inputs, estimator)
        current_hyperparameters = estimator.hyperparameters()
        hyperparameters = None
        if current_hyperparameters is not None:
            hyperparameters = {str(k): to_string(v) for k, v in current_hyperparameters.items()}
        train_args = config.copy()
        train_args["input_mode"] = estimator.input_mode
        train_args["job_name"] = estimator._current_job_name
        train_args["hyperparameters"] = hyperparameters
        train_args["tags"] = estimator.tags
        train_args["metric_definitions"] = estimator.metric_definitions
        train_args["experiment_config"] = experiment_config
        train_args["environment"] = estimator.environment
        if isinstance(inputs, TrainingInput) and "InputMode" in inputs.config:
            train_args["input_mode"] = inputs.config["InputMode"]
        train_args["enable_network_isolation"] = estimator.enable_network_isolation()
        if estimator.max_retry_attempts is not None:
            train_args["retry_strategy"] = {"MaximumRetryAttempts": estimator.max_retry_attempts}
        else:
            train_args["retry_strategy"] = None
        if estimator.training_repository_access_mode is not None:
            training_image_config = {"TrainingRepositoryAccessMode": estimator.training_repository_access_mode}
            if estimator.training_repository_credentials_provider_arn is not None:
                training_image_config["TrainingRepositoryAuthConfig"] = {
                    "TrainingRepositoryCredentialsProviderArn": estimator.training_repository_credentials_provider_arn
                }
            train_args["training_image_config"] = training_image_config
        if estimator.enable_infra_check is not None:
            train_args["infra_check_config"] = {"EnableInfraCheck": estimator.enable_infra_check}
        if estimator.container_entry_point is not None:
            train_args["container_entry_point"] = estimator.container_entry_point
        if estimator.container_arguments is not None:
            train_args["container_arguments"] = estimator.container_arguments
        if estimator.encrypt_inter_container_traffic:
            train_args["encrypt_inter_container_traffic"] = estimator.encrypt_inter_container_traffic
        train_args["image_uri"] = estimator.training_image_uri()
        if estimator.debugger_rule_configs:
            train_args["debugger_rule_configs"] = estimator.debugger_rule_configs
        if estimator.debugger_hook_config:
            estimator.debugger_hook_config.collection_configs = estimator.collection_configs
            train_args["debugger_hook_config"] = estimator.debugger_hook_config._to_request_dict()
        if estimator.tensorboard_output_config:
            train_args["tensorboard_output_config"] = estimator.tensorboard_output_config._to_request_dict()
        cls._add_spot_checkpoint_args(local_mode, estimator, train_args)
        if estimator.enable_sagemaker_metrics is not None:
            train_args["enable_sagemaker_metrics"] = estimator.enable_sagemaker_metrics
        if estimator.profiler_rule_configs:
            train_args["profiler_rule_configs"] = estimator.profiler_rule_configs
        if estimator.profiler_config:
            train_args["profiler_config"] = estimator.profiler_config._to_request_dict()
        if estimator.get_remote_debug_config() is not None:
            train_args["remote_debug_config"] = estimator.get_remote_debug_config()
        if estimator.get_session_chaining_config() is not None:
            train_args["session_chaining_config"] = estimator.get_session_chaining_config()
        return train_args

    @classmethod
    def _add_spot_checkpoint_args(cls, local_mode, estimator, train_args):
        if estimator.use_spot_instances:
            if local_mode:
                raise ValueError("Spot training is not supported in local mode.")
            train_args["use_spot_instances"] = estimator.use_spot_instances
        if estimator.checkpoint_s3_uri:
            if local_mode:
                raise ValueError("Setting checkpoint_s3_uri is not supported in local mode.")
            train_args["checkpoint_s3_uri"] = estimator.checkpoint_s3_uri
        if estimator.checkpoint_local_path:
            if local_mode:
                raise ValueError("Setting checkpoint_local_path is not supported in local mode.")
            train_args["checkpoint_local_path"] = estimator.checkpoint_local_path


def _is_local_channel(input_uri) -> bool:
    return isinstance(input_uri, str) and input_uri.startswith("file://")


def _load_config(inputs, estimator, expand_role=True, validate_uri=True) -> Dict[str, Any]:
    """The channels, role, output, resource, stopping and VPC config of a training job (``_Job._load_config``)."""
    input_config = _format_inputs_to_input_config(inputs, validate_uri)
    role = estimator.role
    if expand_role and not is_pipeline_variable(role):
        role = estimator.sagemaker_session.expand_role(role)
    output_config = {"S3OutputPath": estimator.output_path}
    if estimator.output_kms_key is not None:
        output_config["KmsKeyId"] = estimator.output_kms_key
    if estimator.disable_output_compression:
        output_config["CompressionType"] = "NONE"
    resource_config = {"VolumeSizeInGB": estimator.volume_size}
    if estimator.volume_kms_key is not None:
        resource_config["VolumeKmsKeyId"] = estimator.volume_kms_key
    if estimator.keep_alive_period_in_seconds is not None:
        resource_config["KeepAlivePeriodInSeconds"] = estimator.keep_alive_period_in_seconds
    if estimator.instance_count is None or estimator.instance_type is None:
        raise ValueError("instance_count and instance_type must be set if instance_groups is not set")
    resource_config["InstanceCount"] = estimator.instance_count
    resource_config["InstanceType"] = estimator.instance_type
    if estimator.training_plan is not None:
        resource_config["TrainingPlanArn"] = estimator.training_plan
    if estimator.instance_placement_config is not None:
        resource_config["InstancePlacementConfig"] = estimator.instance_placement_config
    if estimator.max_wait:
        stop_condition = {"MaxRuntimeInSeconds": estimator.max_run, "MaxWaitTimeInSeconds": estimator.max_wait}
    else:
        stop_condition = {"MaxRuntimeInSeconds": estimator.max_run}
    model_channel = _prepare_channel(
        input_config,
        estimator.model_uri,
        estimator.model_channel_name,
        validate_uri,
        content_type="application/x-sagemaker-model",
        input_mode="File",
    )
    if model_channel:
        input_config = [] if input_config is None else input_config
        input_config.append(model_channel)
    code_channel = _prepare_channel(input_config, estimator.code_uri, estimator.code_channel_name, validate_uri)
    if code_channel:
        input_config = [] if input_config is None else input_config
        input_config.append(code_channel)
    return {
        "input_config": input_config,
        "role": role,
        "output_config": output_config,
        "resource_config": resource_config,
        "stop_condition": stop_condition,
        "vpc_config": estimator.get_vpc_config(),
    }


def _format_inputs_to_input_config(inputs, validate_uri=True):
    if inputs is None:
        return None
    from sagepipe.amazon.amazon_estimator import record_set_channels  # deferred: that module imports this one

    inputs = record_set_channels(inputs)  # RecordSet, FileSystemRecordSet or a list of them: their channels
    input_dict = {}
    if isinstance(inputs, str):
        input_dict["training"] = _format_string_uri_input(inputs, validate_uri)
    elif isinstance(inputs, (TrainingInput, FileInput, FileSystemInput)):
        input_dict["training"] = inputs
    elif isinstance(inputs, dict):
        for k, v in inputs.items():
            input_dict[k] = _format_string_uri_input(v, validate_uri)
    elif is_pipeline_variable(inputs):
        input_dict["training"] = TrainingInput(inputs)
    else:
        raise ValueError(f"Cannot format input {inputs}. Expecting one of str, dict, TrainingInput or FileSystemInput")
    return [dict(channel.config, ChannelName=name) for name, channel in input_dict.items()]


def _format_string_uri_input(uri_input, validate_uri=True, content_type=None, input_mode=None):
    if isinstance(uri_input, str) and validate_uri and uri_input.startswith("s3://"):
        return TrainingInput(uri_input, content_type=content_type, input_mode=input_mode)
    if isinstance(uri_input, str) and validate_uri and uri_input.startswith("file://"):
        return FileInput(uri_input)
    if isinstance(uri_input, str) and validate_uri:
        raise ValueError(f'URI input {uri_input} must be a valid S3 or FILE URI: must start with "s3://" or "file://"')
    if isinstance(uri_input, str):
        return TrainingInput(uri_input, content_type=content_type, input_mode=input_mode)
    if isinstance(uri_input, (FileInput, FileSystemInput, TrainingInput)):
        return uri_input
    if is_pipeline_variable(uri_input):
        return TrainingInput(uri_input, content_type=content_type, input_mode=input_mode)
    raise ValueError(
        f"Cannot format input {uri_input}. Expecting one of str, TrainingInput, file_input or FileSystemInput"
    )


def _prepare_channel(
    input_config, channel_uri=None, channel_name=None, validate_uri=True, content_type=None, input_mode=None
):
    if not channel_uri:
        return None
    if not channel_name:
        raise ValueError(f"Expected a channel name if a channel URI {channel_uri} is specified")
    for existing_channel in input_config or []:
        if existing_channel["ChannelName"] == channel_name:
            raise ValueError(f"Duplicate channel {channel_name} not allowed.")
    channel_input = _format_string_uri_input(channel_uri, validate_uri, content_type, input_mode)
    return dict(channel_input.config, ChannelName=channel_name)


class Estimator(EstimatorBase):
    """A generic Estimator to train using any supplied algorithm (a container image)."""

    def __init__(self, image_uri: Union[str, PipelineVariable], role: str = None, **kwargs):
        """Initialize an ``Estimator`` instance.

        Args:
            image_uri (str or PipelineVariable): The container image to use for training.
            role (str): An AWS IAM role ARN (recorded; not needed locally).
            **kwargs: The other arguments of :class:`EstimatorBase` (``instance_count``,
                ``instance_type``, ``output_path``, ``hyperparameters``, ``entry_point``,
                ``source_dir``, ...), with the same names as the SDK.
        """
        self.image_uri = image_uri
        hyperparameters = kwargs.get("hyperparameters")
        self._hyperparameters = hyperparameters.copy() if hyperparameters else {}
        super().__init__(role=role, **kwargs)
        self.set_hyperparameters(**self._hyperparameters)

    def training_image_uri(self):
        """Returns the docker image to use for training."""
        return self.image_uri

    def set_hyperparameters(self, **kwargs):
        """Sets the hyperparameter dictionary to use for training (JSON-encoded in script mode)."""
        if self.source_dir:
            self._hyperparameters.update(EstimatorBase._json_encode_hyperparameters(kwargs))
        else:
            for k, v in kwargs.items():
                self._hyperparameters[k] = v

    def hyperparameters(self):
        """Returns the hyperparameters as a dictionary to use for training."""
        return self._hyperparameters

    def create_model(
        self, role=None, image_uri=None, predictor_cls=None, vpc_config_override="VPC_CONFIG_DEFAULT", **kwargs
    ):
        """Create a ``Model`` serving this estimator's image and model artifacts."""
        from sagepipe.model import Model

        if "enable_network_isolation" not in kwargs:
            kwargs["enable_network_isolation"] = self.enable_network_isolation()
        return Model(
            image_uri or self.training_image_uri(),
            self.model_data,
            role or self.role,
            vpc_config=self.get_vpc_config(vpc_config_override),
            sagemaker_session=self.sagemaker_session,
            predictor_cls=predictor_cls,
            **kwargs,
        )


class Framework(EstimatorBase):
    """Base class for framework estimators (script mode: ``entry_point`` + optional ``source_dir``)."""

    _framework_name: Optional[str] = None
    LAUNCH_PT_XLA_ENV_NAME = "sagemaker_pytorch_xla_multi_worker_enabled"
    LAUNCH_PS_ENV_NAME = "sagemaker_parameter_server_enabled"
    LAUNCH_MPI_ENV_NAME = "sagemaker_mpi_enabled"
    LAUNCH_SM_DDP_ENV_NAME = "sagemaker_distributed_dataparallel_enabled"
    LAUNCH_MWMS_ENV_NAME = "sagemaker_multi_worker_mirrored_strategy_enabled"
    INSTANCE_TYPE = "sagemaker_instance_type"
    MPI_NUM_PROCESSES_PER_HOST = "sagemaker_mpi_num_of_processes_per_host"
    MPI_CUSTOM_MPI_OPTIONS = "sagemaker_mpi_custom_mpi_options"
    SM_DDP_CUSTOM_MPI_OPTIONS = "sagemaker_distributed_dataparallel_custom_mpi_options"

    def __init__(
        self,
        entry_point: Union[str, PipelineVariable],
        source_dir: Optional[Union[str, PipelineVariable]] = None,
        hyperparameters: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        container_log_level: Union[int, PipelineVariable] = logging.INFO,
        code_location: Optional[str] = None,
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        dependencies: Optional[List[str]] = None,
        enable_network_isolation: Union[bool, PipelineVariable] = None,
        git_config: Optional[Dict[str, str]] = None,
        checkpoint_s3_uri: Optional[Union[str, PipelineVariable]] = None,
        checkpoint_local_path: Optional[Union[str, PipelineVariable]] = None,
        enable_sagemaker_metrics: Optional[Union[bool, PipelineVariable]] = None,
        **kwargs,
    ):
        """Base class initializer for framework estimators.

        Args:
            entry_point (str or PipelineVariable): Path (absolute or relative) to the Python
                file executed as the entry point to training. With ``source_dir`` it is relative
                to ``source_dir``.
            source_dir (str or PipelineVariable): A directory with the training code (packed
                whole into ``sourcedir.tar.gz``), or an S3 URI of a ``sourcedir.tar.gz``.
            hyperparameters (dict): Hyperparameters, JSON-encoded into the request.
            container_log_level (int): Log level of the container (``sagemaker_container_log_level``).
            code_location (str): The S3 prefix to upload the code to (default: the pipeline's
                ``code/<hash>`` prefix in the output bucket).
            image_uri (str or PipelineVariable): The image (default: from the framework version).
            dependencies (list[str]): Extra files or directories packed with the code.
            enable_network_isolation (bool): Recorded.
            git_config (dict): Not supported locally.
            checkpoint_s3_uri, checkpoint_local_path (str): Recorded.
            enable_sagemaker_metrics (bool): Recorded.
            **kwargs: The arguments of :class:`EstimatorBase`.
        """
        super().__init__(enable_network_isolation=enable_network_isolation, git_config=git_config, **kwargs)
        validate_source_code_input_against_pipeline_variables(
            entry_point=entry_point,
            source_dir=source_dir,
            git_config=git_config,
            enable_network_isolation=enable_network_isolation,
        )
        if not is_pipeline_variable(entry_point) and entry_point is not None and entry_point.startswith("s3://"):
            raise ValueError(f"Invalid entry point script: {entry_point}. Must be a path to a local file.")
        self.entry_point = entry_point
        self.git_config = git_config
        self.source_dir = source_dir
        self.dependencies = dependencies or []
        self.uploaded_code: Optional[UploadedCode] = None
        self.container_log_level = container_log_level
        self.code_location = code_location
        self.image_uri = image_uri
        self._hyperparameters = hyperparameters or {}
        self.checkpoint_s3_uri = checkpoint_s3_uri
        self.checkpoint_local_path = checkpoint_local_path
        self.enable_sagemaker_metrics = enable_sagemaker_metrics

    def _prepare_for_training(self, job_name=None):
        super()._prepare_for_training(job_name=job_name)
        self._validate_and_set_debugger_configs()

    def _script_mode_hyperparam_update(self, code_dir: str, script: str) -> None:
        # Framework.hyperparameters() JSON-encodes everything, so these stay raw here.
        self._hyperparameters.update(
            {
                DIR_PARAM_NAME: code_dir,
                SCRIPT_PARAM_NAME: script,
                CONTAINER_LOG_LEVEL_PARAM_NAME: self.container_log_level,
                JOB_NAME_PARAM_NAME: self._current_job_name,
                SAGEMAKER_REGION_PARAM_NAME: self.sagemaker_session.boto_region_name,
            }
        )

    def _validate_and_set_debugger_configs(self):
        super()._validate_and_set_debugger_configs()
        if self.checkpoint_s3_uri and self.checkpoint_local_path and self.debugger_hook_config:
            if self._framework_name in {"mxnet", "pytorch", "tensorflow"}:
                if is_pipeline_variable(self.instance_count):
                    self.debugger_hook_config = False
                elif self.instance_count > 1 or getattr(self, "distribution", None) is not None:
                    self.debugger_hook_config = False

    def set_hyperparameters(self, **kwargs):
        """Escapes the dict argument as JSON, updates the private hyperparameter attribute."""
        self._hyperparameters.update(EstimatorBase._json_encode_hyperparameters(kwargs))

    def hyperparameters(self):
        """Returns the hyperparameters as a dictionary to use for training (JSON-encoded)."""
        return EstimatorBase._json_encode_hyperparameters(self._hyperparameters)

    def training_image_uri(self, region=None):
        """Return the Docker image to use for training (``image_uri`` or the framework's image)."""
        from sagepipe import image_uris

        return image_uris.get_training_image_uri(
            region=region or self.sagemaker_session.boto_region_name,
            framework=self._framework_name,
            framework_version=getattr(self, "framework_version", None),
            py_version=getattr(self, "py_version", None),
            image_uri=self.image_uri,
            distribution=getattr(self, "distribution", None),
            compiler_config=getattr(self, "compiler_config", None),
            tensorflow_version=getattr(self, "tensorflow_version", None),
            pytorch_version=getattr(self, "pytorch_version", None),
            instance_type=self.instance_type,
        )

    def _model_source_dir(self):
        """The code a model of this estimator serves: the uploaded ``sourcedir.tar.gz`` (local dir in local mode)."""
        if self.sagemaker_session.local_mode:
            return self.source_dir
        if self.uploaded_code is not None:
            return self.uploaded_code.s3_prefix
        return None

    def _model_entry_point(self):
        """The entry point a model of this estimator serves (the script's name inside the uploaded code)."""
        if self.sagemaker_session.local_mode or self._model_source_dir() is None:
            return self.entry_point
        if self.uploaded_code is not None:
            return self.uploaded_code.script_name
        return None

    def _distribution_configuration(self, distribution):
        """The ``sagemaker_*`` hyperparameters that tell the framework container how to distribute training.

        Locally a job runs on one host whatever the strategy; the hyperparameters are those the
        service receives, and the script sees them as on SageMaker.
        """
        config = {}
        distribution = distribution or {}
        if "instance_groups" in distribution:
            config["sagemaker_distribution_instance_groups"] = distribution["instance_groups"]
        if "pytorchxla" in distribution:
            config[self.LAUNCH_PT_XLA_ENV_NAME] = distribution["pytorchxla"].get("enabled", False)
        if "parameter_server" in distribution:
            config[self.LAUNCH_PS_ENV_NAME] = distribution["parameter_server"].get("enabled", False)
        mpi_enabled = False
        if "mpi" in distribution:
            mpi = distribution["mpi"]
            mpi_enabled = mpi.get("enabled", False)
            config[self.LAUNCH_MPI_ENV_NAME] = mpi_enabled
            if mpi.get("processes_per_host"):
                config[self.MPI_NUM_PROCESSES_PER_HOST] = mpi.get("processes_per_host")
            config[self.MPI_CUSTOM_MPI_OPTIONS] = mpi.get("custom_mpi_options", "")
        smdataparallel_enabled = False
        if "smdistributed" in distribution:
            smdistributed = distribution["smdistributed"]
            model_parallel = smdistributed.get("modelparallel", {})
            if model_parallel.get("enabled", False) is True:
                config["mp_parameters"] = model_parallel.get("parameters", {})
            smdataparallel_enabled = smdistributed.get("dataparallel", {}).get("enabled", False)
            config[self.LAUNCH_SM_DDP_ENV_NAME] = smdataparallel_enabled
            config[self.INSTANCE_TYPE] = self.instance_type
            if smdataparallel_enabled:
                config[self.SM_DDP_CUSTOM_MPI_OPTIONS] = smdistributed["dataparallel"].get("custom_mpi_options", "")
        if "multi_worker_mirrored_strategy" in distribution:
            config[self.LAUNCH_MWMS_ENV_NAME] = distribution["multi_worker_mirrored_strategy"].get("enabled", False)
        if not (mpi_enabled or smdataparallel_enabled) and config.get("sagemaker_distribution_instance_groups") not in [
            None,
            [],
        ]:
            raise ValueError("Don't set training instance groups while no distribution strategies enabled!")
        return config

    def transformer(
        self,
        instance_count: Union[int, PipelineVariable],
        instance_type: Union[str, PipelineVariable],
        strategy: Optional[Union[str, PipelineVariable]] = None,
        assemble_with: Optional[Union[str, PipelineVariable]] = None,
        output_path: Optional[Union[str, PipelineVariable]] = None,
        output_kms_key: Optional[Union[str, PipelineVariable]] = None,
        accept: Optional[Union[str, PipelineVariable]] = None,
        env: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        max_concurrent_transforms: Optional[Union[int, PipelineVariable]] = None,
        max_payload: Optional[Union[int, PipelineVariable]] = None,
        tags=None,
        role: Optional[str] = None,
        model_server_workers: Optional[Union[int, PipelineVariable]] = None,
        volume_kms_key: Optional[Union[str, PipelineVariable]] = None,
        entry_point: Optional[str] = None,
        vpc_config_override="VPC_CONFIG_DEFAULT",
        enable_network_isolation: Optional[bool] = None,
        model_name: Optional[Union[str, PipelineVariable]] = None,
    ):
        """Return a ``Transformer`` for batch transform with a model of this estimator.

        As :meth:`EstimatorBase.transformer`, with the framework model's settings of the SDK's
        signature: ``model_server_workers`` and ``entry_point`` configure the model the SDK
        creates from a finished training job; no model is created here (training jobs run only
        as pipeline steps), so they are unused, as in the SDK's workflow case. ``env`` defaults
        to ``{}`` as in the SDK.
        """
        return super().transformer(
            instance_count,
            instance_type,
            strategy=strategy,
            assemble_with=assemble_with,
            output_path=output_path,
            output_kms_key=output_kms_key,
            accept=accept,
            env=env or {},
            max_concurrent_transforms=max_concurrent_transforms,
            max_payload=max_payload,
            tags=tags,
            role=role,
            volume_kms_key=volume_kms_key,
            vpc_config_override=vpc_config_override,
            enable_network_isolation=enable_network_isolation,
            model_name=model_name,
        )

    def create_model(self, **kwargs):
        """Create a model of the framework (each framework estimator defines it)."""
        raise NotImplementedError(f"{type(self).__name__} does not define create_model()")

    def _create_framework_model(
        self, model_cls, role, vpc_config_override, entry_point, source_dir, dependencies, **kwargs
    ):
        """The framework model of this estimator's model artifacts, code and settings (each ``create_model``).

        ``source_dir``/``dependencies`` default to the estimator's uploaded code; ``kwargs`` are the
        framework's own arguments (versions, ``model_server_workers``, ...).
        """
        kwargs["name"] = self._get_or_create_name(kwargs.get("name"))
        if "image_uri" not in kwargs:
            kwargs["image_uri"] = self.image_uri
        return model_cls(
            model_data=self.model_data,
            role=role or self.role,
            entry_point=entry_point,
            source_dir=source_dir or self._model_source_dir(),
            container_log_level=self.container_log_level,
            code_location=self.code_location,
            sagemaker_session=self.sagemaker_session,
            vpc_config=self.get_vpc_config(vpc_config_override),
            dependencies=dependencies or self.dependencies,
            **kwargs,
        )

    def _create_script_mode_model(
        self,
        model_cls,
        model_server_workers,
        role,
        vpc_config_override,
        entry_point,
        source_dir,
        dependencies,
        **kwargs,
    ):
        """A ``model_cls`` of this estimator's framework and Python versions, serving ``entry_point`` (default: the
        training script) with ``model_server_workers``: the ``create_model`` of Chainer, PyTorch, Scikit-learn and
        XGBoost estimators."""
        return self._create_framework_model(
            model_cls,
            role,
            vpc_config_override,
            entry_point or self._model_entry_point(),
            source_dir,
            dependencies,
            framework_version=self.framework_version,
            py_version=self.py_version,
            model_server_workers=model_server_workers,
            **kwargs,
        )


# The SDK module exposes PipelineSession here too (``from sagemaker.estimator import ...``).
__all__ += ["PipelineSession"]


def _default_sagemaker_metrics(kwargs: Dict[str, Any], framework_version: Optional[str], lowest: str) -> None:
    """Framework images from ``lowest`` on publish SageMaker metrics: the SDK turns them on by default."""
    from sagepipe.fw_utils import version_tuple

    if "enable_sagemaker_metrics" not in kwargs and framework_version:
        if version_tuple(framework_version) >= version_tuple(lowest):
            kwargs["enable_sagemaker_metrics"] = True
