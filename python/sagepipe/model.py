"""Models (mirror of ``sagemaker.model.Model``: the ``create``/``register`` pipeline surface).

Under a ``PipelineSession``, ``model.create(...)`` and ``model.register(...)`` return step
arguments for a ``ModelStep`` (``<name>-CreateModel`` / ``<name>-RegisterModel``). A model with
``entry_point`` *and* ``source_dir`` whose ``model_data`` is a pipeline variable is repacked at run
time, exactly when the SDK would: the ``ModelStep`` then gets a ``<name>-RepackModel-<i>`` training
step. Deploying endpoints is not part of sagepipe; outside a pipeline session ``create`` and
``register`` raise.
"""

import copy
import io
import logging
import os
import tarfile
from typing import Any, Callable, Dict, List, Optional, Union

from sagepipe import s3
from sagepipe._job_requests import container_def, get_model_package_args, put_present
from sagepipe.fw_utils import (
    UploadedCode,
    model_code_key_prefix,
    tar_and_upload_dir,
    validate_version_or_image_args,
    version_tuple,
)
from sagepipe.utils import base_name_from_image, to_string
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.entities import PipelineVariable
from sagepipe.workflow.pipeline_context import PipelineSession, runnable_by_pipeline

logger = logging.getLogger(__name__)

SCRIPT_PARAM_NAME = "sagemaker_program"
DIR_PARAM_NAME = "sagemaker_submit_directory"
CONTAINER_LOG_LEVEL_PARAM_NAME = "sagemaker_container_log_level"
JOB_NAME_PARAM_NAME = "sagemaker_job_name"
MODEL_SERVER_WORKERS_PARAM_NAME = "sagemaker_model_server_workers"
SAGEMAKER_REGION_PARAM_NAME = "sagemaker_region"

__all__ = ["FrameworkModel", "Model", "ModelPackage", "update_container_with_inference_params"]


def update_container_with_inference_params(
    framework=None,
    framework_version=None,
    nearest_model_name=None,
    data_input_configuration=None,
    container_def=None,
    container_list=None,
):
    """Add the inference recommender parameters (when given) to a container definition or list."""
    targets = list(container_list or []) + ([container_def] if container_def is not None else [])
    for obj in targets:
        put_present(
            obj,
            (
                ("Framework", framework),
                ("FrameworkVersion", framework_version),
                ("NearestModelName", nearest_model_name),
            ),
        )
        if data_input_configuration is not None:
            obj["ModelInput"] = {"DataInputConfig": data_input_configuration}
    return container_list or container_def


def _stored_model_transformer(model, unnamed_message, instance_count, instance_type, **transformer_args):
    """A ``Transformer`` of the model named ``model.name`` in the store (``Model``/``PipelineModel.transformer``).

    The SDK creates the model first; sagepipe creates models only as pipeline steps, so the
    transformer needs a ``PipelineSession`` and the name of a stored model (else ``unnamed_message``).
    """
    from sagepipe._job_requests import no_direct_jobs_error
    from sagepipe.transformer import Transformer

    if not isinstance(model.sagemaker_session, PipelineSession):
        raise no_direct_jobs_error("create_model")
    if not model.name:
        raise ValueError(unnamed_message)
    return Transformer(
        model.name, instance_count, instance_type, sagemaker_session=model.sagemaker_session, **transformer_args
    )


class Model:
    """A SageMaker ``Model`` that can be created or registered from a pipeline."""

    def __init__(
        self,
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        model_data: Optional[Union[str, PipelineVariable, dict]] = None,
        role: Optional[str] = None,
        predictor_cls: Optional[Callable] = None,
        env: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        name: Optional[str] = None,
        vpc_config: Optional[Dict[str, List[Union[str, PipelineVariable]]]] = None,
        sagemaker_session=None,
        enable_network_isolation: Union[bool, PipelineVariable] = None,
        model_kms_key: Optional[str] = None,
        image_config: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        source_dir: Optional[str] = None,
        code_location: Optional[str] = None,
        entry_point: Optional[str] = None,
        container_log_level: Union[int, PipelineVariable] = logging.INFO,
        dependencies: Optional[List[str]] = None,
        git_config: Optional[Dict[str, str]] = None,
        resources=None,
        additional_model_data_sources: Optional[Dict[str, Any]] = None,
        model_reference_arn: Optional[str] = None,
    ):
        """Initialize a ``Model``.

        Args:
            image_uri (str or PipelineVariable): The container image for inference.
            model_data (str or PipelineVariable or dict): The S3 location of the model
                artifacts (typically ``training_step.properties.ModelArtifacts.S3ModelArtifacts``).
            role (str): An IAM role ARN (recorded; not needed locally).
            predictor_cls (callable): Recorded (no endpoints locally).
            env (dict[str, str]): Environment variables of the container.
            name (str): The model name (popped from the step definition like the SDK).
            vpc_config (dict): ``Subnets`` / ``SecurityGroupIds`` (recorded).
            sagemaker_session (sagepipe.session.Session): A ``PipelineSession`` to build steps.
            enable_network_isolation (bool): Recorded.
            model_kms_key (str): Recorded.
            image_config (dict): The container ``ImageConfig``.
            source_dir (str): Directory with inference code; with ``entry_point`` it triggers a
                repack of the model artifacts (as in the SDK).
            code_location (str): The S3 prefix for the inference code.
            entry_point (str): The inference script.
            container_log_level (int): Log level of the container.
            dependencies (list[str]): Extra code packed with the inference code.
            git_config (dict): Not supported locally.
            resources: Compute resource requirements (recorded).
            additional_model_data_sources (list): Additional model data sources.
            model_reference_arn (str): Hub content ARN of a model reference.

        Raises:
            NotImplementedError: ``git_config`` was given.
        """
        if git_config:
            raise NotImplementedError("Model(git_config=...) is not supported by sagepipe; pass source_dir=.")
        self.model_data = model_data
        self.additional_model_data_sources = additional_model_data_sources
        self.image_uri = image_uri
        self.predictor_cls = predictor_cls
        self.name = name
        self._base_name = None
        self.sagemaker_session = sagemaker_session
        self.algorithm_arn = None
        self.model_package_arn = None
        # What the caller left out comes from the SageMaker config when the model is made (as the
        # SDK); without a session yet, from the config files directly.
        from sagepipe import config

        sagemaker_config = config.load_sagemaker_config() if sagemaker_session is None else None
        self.role = config.resolve_value_from_config(
            role, config.MODEL_EXECUTION_ROLE_ARN_PATH, None, sagemaker_session, sagemaker_config
        )
        self.vpc_config = config.resolve_value_from_config(
            vpc_config, config.MODEL_VPC_CONFIG_PATH, None, sagemaker_session, sagemaker_config
        )
        self.endpoint_name = None
        self._enable_network_isolation = config.resolve_value_from_config(
            enable_network_isolation,
            config.MODEL_ENABLE_NETWORK_ISOLATION_PATH,
            False,
            sagemaker_session,
            sagemaker_config,
        )
        self.env = env if env is not None else {}
        self.model_kms_key = model_kms_key
        self.image_config = image_config
        self.entry_point = entry_point
        self.source_dir = source_dir
        self.dependencies = dependencies or []
        self.git_config = git_config
        self.container_log_level = container_log_level
        if code_location:
            self.bucket, self.key_prefix = s3.parse_s3_url(code_location)
        else:
            self.bucket, self.key_prefix = None, None
        self.uploaded_code = None
        self.repacked_model_data = None
        self.resources = resources
        self.content_types = None
        self.response_types = None
        self.accept_eula = None
        self.model_reference_arn = model_reference_arn

    def enable_network_isolation(self):
        """Whether to enable network isolation when creating this Model."""
        return self._enable_network_isolation

    def _registration_defaults(self, inference_instances, image_uri, framework, framework_version):
        """The ``image_uri``, ``framework`` and ``framework_version`` a registration records.

        A plain model records what it is given; framework models fill in their own (see
        :class:`FrameworkModel`).
        """
        return image_uri, framework, framework_version

    def _init_sagemaker_session_if_does_not_exist(self, instance_type=None):
        if self.sagemaker_session:
            return
        from sagepipe.session import Session

        self.sagemaker_session = Session()

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
        validation_specification: Optional[Union[str, PipelineVariable]] = None,
        domain: Optional[Union[str, PipelineVariable]] = None,
        task: Optional[Union[str, PipelineVariable]] = None,
        sample_payload_url: Optional[Union[str, PipelineVariable]] = None,
        framework: Optional[Union[str, PipelineVariable]] = None,
        framework_version: Optional[Union[str, PipelineVariable]] = None,
        nearest_model_name: Optional[Union[str, PipelineVariable]] = None,
        data_input_configuration: Optional[Union[str, PipelineVariable]] = None,
        skip_model_validation: Optional[Union[str, PipelineVariable]] = None,
        source_uri: Optional[Union[str, PipelineVariable]] = None,
        model_card=None,
        model_life_cycle=None,
        accept_eula: Optional[bool] = None,
        model_type=None,
        model_package_registration_type: Optional[Union[str, PipelineVariable]] = None,
        base_model=None,
    ):
        """Creates a model package (under a ``PipelineSession``: returns ``ModelStep`` args).

        Args:
            content_types (list[str]): The supported MIME types for the input data.
            response_types (list[str]): The supported MIME types for the output data.
            inference_instances (list[str]): Instance types for real-time inference.
            transform_instances (list[str]): Instance types for batch transform.
            model_package_name (str): Name of an unversioned model package.
            model_package_group_name (str): Model package group (default: the image's
                repository name, as the SDK).
            image_uri (str): Inference image URI (default: the model's).
            model_metrics (ModelMetrics): Model metrics.
            metadata_properties: Model metadata properties.
            marketplace_cert (bool): Popped from the step definition (as the SDK).
            approval_status (str): ``Approved``, ``Rejected`` or ``PendingManualApproval``.
            description (str): Model package description.
            drift_check_baselines (DriftCheckBaselines): Drift check baselines.
            customer_metadata_properties (dict[str, str]): Custom metadata.
            validation_specification, domain, task, sample_payload_url, framework,
            framework_version, nearest_model_name, data_input_configuration,
            skip_model_validation, source_uri, model_life_cycle,
            model_package_registration_type: As in the SDK.
            model_card, accept_eula, model_type, base_model: Not supported locally.

        Returns:
            The ``ModelStep`` step arguments under a ``PipelineSession``.
        """
        if model_card is not None or model_type is not None or base_model is not None:
            raise NotImplementedError("model_card, model_type and base_model are not supported by sagepipe.")
        image_uri, framework, framework_version = self._registration_defaults(
            inference_instances, image_uri, framework, framework_version
        )
        if content_types is not None:
            self.content_types = content_types
        if response_types is not None:
            self.response_types = response_types
        if image_uri is not None:
            self.image_uri = image_uri
        if model_package_group_name is None and model_package_name is None:
            model_package_group_name = base_name_from_image(self.image_uri, default_base_name="ModelPackage")
        if model_package_group_name is not None:
            c_def = self.prepare_container_def(accept_eula=accept_eula)
            c_def = update_container_with_inference_params(
                framework=framework,
                framework_version=framework_version,
                nearest_model_name=nearest_model_name,
                data_input_configuration=data_input_configuration,
                container_def=c_def,
            )
        else:
            c_def = {"Image": self.image_uri}
            if isinstance(self.model_data, dict):
                raise ValueError(
                    "Un-versioned SageMaker Model Package currently cannot be created with ModelDataSource."
                )
            if self.model_data is not None:
                c_def["ModelDataUrl"] = self.model_data
        model_pkg_args = get_model_package_args(
            self.content_types,
            self.response_types,
            inference_instances=inference_instances,
            transform_instances=transform_instances,
            model_package_name=model_package_name,
            model_package_group_name=model_package_group_name,
            model_metrics=model_metrics,
            metadata_properties=metadata_properties,
            marketplace_cert=marketplace_cert,
            approval_status=approval_status,
            description=description,
            container_def_list=[c_def],
            drift_check_baselines=drift_check_baselines,
            customer_metadata_properties=customer_metadata_properties,
            validation_specification=validation_specification,
            domain=domain,
            sample_payload_url=sample_payload_url,
            task=task,
            skip_model_validation=skip_model_validation,
            source_uri=source_uri,
            model_life_cycle=model_life_cycle,
            model_package_registration_type=model_package_registration_type,
        )
        self.sagemaker_session.create_model_package_from_containers(**model_pkg_args)

    @runnable_by_pipeline
    def create(
        self,
        instance_type: Optional[str] = None,
        accelerator_type: Optional[str] = None,
        serverless_inference_config=None,
        tags=None,
        accept_eula: Optional[bool] = None,
        model_reference_arn: Optional[str] = None,
    ):
        """Create a SageMaker Model entity (under a ``PipelineSession``: returns ``ModelStep`` args).

        Args:
            instance_type (str): The EC2 instance type this model is for (recorded).
            accelerator_type (str): Elastic Inference accelerator (recorded).
            serverless_inference_config: Recorded.
            tags (list[dict]): Tags of the model.
            accept_eula (bool): Whether the model's end-user license is accepted.
            model_reference_arn (str): Hub content ARN of a model reference.
        """
        self._create_sagemaker_model(
            instance_type=instance_type,
            accelerator_type=accelerator_type,
            tags=tags,
            serverless_inference_config=serverless_inference_config,
            accept_eula=accept_eula,
            model_reference_arn=model_reference_arn,
        )

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
        volume_kms_key: Optional[Union[str, PipelineVariable]] = None,
    ):
        """Return a ``Transformer`` that runs batch transform jobs with the model named ``self.name``.

        The SDK first creates the model (``CreateModel``) under ``self.name``. sagepipe creates
        models only as pipeline steps (a ``ModelStep`` records the model in the store under a
        generated name), so here the model must already be in the store under ``name`` (for
        example created by an earlier run: ``describe_model`` lists it), and ``self.name`` is
        required. To transform with a model the same pipeline creates, pass its name as a step
        property: ``Transformer(model_name=model_step.properties.ModelName, ...)``.

        Args:
            instance_count, instance_type: Resources of the transform job (recorded).
            strategy, assemble_with, output_path, output_kms_key, accept, env,
            max_concurrent_transforms, max_payload, tags, volume_kms_key: As for
                :class:`sagepipe.transformer.Transformer`. ``env`` is dropped when the model has
                network isolation, as the SDK does.

        Raises:
            PipelineSessionRequiredError: The model's session is not a ``PipelineSession``.
            ValueError: The model has no ``name``.
        """
        self._init_sagemaker_session_if_does_not_exist(instance_type)
        if self.enable_network_isolation():
            env = None
        return _stored_model_transformer(
            self,
            "Model.transformer() needs the model's name (Model(name=...)) of a model in the sagepipe store: "
            "sagepipe creates models only as pipeline steps. For a model this pipeline creates, use "
            "Transformer(model_name=model_step.properties.ModelName, ...) with the ModelStep of model.create().",
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
            tags=tags,
            base_transform_job_name=self._base_name or self.name,
            volume_kms_key=volume_kms_key,
        )

    def prepare_container_def(
        self,
        instance_type=None,
        accelerator_type=None,
        serverless_inference_config=None,
        accept_eula=None,
        model_reference_arn=None,
    ):
        """Return the container definition of this model (uploading or repacking its code first)."""
        deploy_key_prefix = model_code_key_prefix(self.key_prefix, self.name, self.image_uri)
        deploy_env = copy.deepcopy(self.env)
        if self.source_dir or self.dependencies or self.entry_point or self.git_config:
            self._upload_code(deploy_key_prefix, repack=self.is_repack())
            deploy_env.update(self._script_mode_env_vars())
        return container_def(
            self.image_uri,
            self.repacked_model_data or self.model_data,
            deploy_env,
            image_config=self.image_config,
            accept_eula=accept_eula if accept_eula is not None else self.accept_eula,
            additional_model_data_sources=self.additional_model_data_sources,
            model_reference_arn=model_reference_arn if model_reference_arn is not None else self.model_reference_arn,
        )

    def is_repack(self) -> bool:
        """Whether the model artifacts are repacked with the code (``source_dir`` and ``entry_point``)."""
        if self.source_dir is None or self.entry_point is None:
            return False
        return bool(self.source_dir and self.entry_point and not self.git_config)

    def _upload_code(self, key_prefix: str, repack: bool = False) -> None:
        """Upload the inference code, or prepare a repack of it into the model artifacts."""
        bucket, key_prefix = s3.determine_bucket_and_prefix(
            bucket=self.bucket, key_prefix=key_prefix, sagemaker_session=self.sagemaker_session
        )
        if self.entry_point is None:
            self.uploaded_code = None
        elif not repack:
            self.uploaded_code = tar_and_upload_dir(
                session=self.sagemaker_session,
                bucket=bucket,
                s3_key_prefix=key_prefix,
                script=self.entry_point,
                directory=self.source_dir,
                dependencies=self.dependencies,
            )
        if repack and self.model_data is not None and self.entry_point is not None:
            if isinstance(self.model_data, dict):
                from sagepipe.workflow.utilities import log_warning_once

                log_warning_once(logger, "ModelDataSource currently doesn't support model repacking")
                return
            if is_pipeline_variable(self.model_data):
                if not isinstance(self.sagemaker_session, PipelineSession):
                    return
                # Repacked at run time by a <name>-RepackModel-<i> step the ModelStep adds.
                self.sagemaker_session.context.need_runtime_repack.add(id(self))
                self.sagemaker_session.context.runtime_repack_output_prefix = s3.s3_path_join(
                    "s3://", bucket, key_prefix
                )
                self.repacked_model_data = self.model_data
                self.uploaded_code = UploadedCode(
                    s3_prefix=self.repacked_model_data, script_name=os.path.basename(self.entry_point)
                )
                return
            repacked_model_data = "s3://" + "/".join([bucket, key_prefix, "model.tar.gz"])
            self.uploaded_code = UploadedCode(
                s3_prefix=repacked_model_data, script_name=os.path.basename(self.entry_point)
            )
            self._repack_now(repacked_model_data)
            self.repacked_model_data = repacked_model_data

    def _repack_now(self, repacked_model_data: str) -> None:
        """Repack static model artifacts from the store with the code under ``code/`` (SDK layout)."""
        session = self.sagemaker_session
        bucket, key = s3.parse_s3_url(self.model_data)
        try:
            original = session.read_s3_bytes(bucket, key)
        except FileNotFoundError as exc:
            raise ValueError(
                f"Cannot repack model_data {self.model_data}: it is not in the sagepipe store. Upload it first "
                "(session.upload_data) or pass a step property such as ModelArtifacts.S3ModelArtifacts."
            ) from exc
        out = io.BytesIO()
        with (
            tarfile.open(fileobj=io.BytesIO(original), mode="r:gz") as src,
            tarfile.open(fileobj=out, mode="w:gz") as dst,
        ):
            for member in src.getmembers():
                if member.name == "code" or member.name.startswith(("code/", "./code/")):
                    continue
                dst.addfile(member, src.extractfile(member) if member.isfile() else None)
            if self.source_dir and str(self.source_dir).lower().startswith("s3://"):
                self._add_s3_source_dir(dst)
            elif self.source_dir:
                dst.add(self.source_dir, arcname="code")
            else:
                dst.add(self.entry_point, arcname=f"code/{os.path.basename(self.entry_point)}")
            for dependency in self.dependencies:
                dst.add(dependency, arcname=f"code/lib/{os.path.basename(dependency)}")
        out_bucket, out_key = s3.parse_s3_url(repacked_model_data)
        session.upload_string_as_file_body(body=out.getvalue(), bucket=out_bucket, key=out_key)

    def _add_s3_source_dir(self, dst: tarfile.TarFile) -> None:
        """Add the files of the ``sourcedir.tar.gz`` at the ``s3://`` source_dir (in the store) under ``code/``."""
        bucket, key = s3.parse_s3_url(self.source_dir)
        try:
            archive = self.sagemaker_session.read_s3_bytes(bucket, key)
        except FileNotFoundError as exc:
            raise ValueError(
                f"Cannot repack with source_dir {self.source_dir}: it is not in the sagepipe store. Upload the "
                "sourcedir.tar.gz first (session.upload_data)."
            ) from exc
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as code:
            for member in code.getmembers():
                name = os.path.normpath(member.name)
                # Only plain files and directories inside the archive: nothing may land outside code/.
                if name in (".", "") or name.startswith(("..", "/")) or not (member.isfile() or member.isdir()):
                    continue
                member.name = f"code/{name}"
                dst.addfile(member, code.extractfile(member) if member.isfile() else None)

    def _script_mode_env_vars(self):
        """The ``SAGEMAKER_PROGRAM`` / ``SAGEMAKER_SUBMIT_DIRECTORY`` / ... environment of the container."""
        script_name = self.env.get(SCRIPT_PARAM_NAME.upper(), "")
        dir_name = self.env.get(DIR_PARAM_NAME.upper(), "")
        if self.uploaded_code:
            script_name = self.uploaded_code.script_name
            if self.repacked_model_data or self.enable_network_isolation():
                dir_name = "/opt/ml/model/code"
            else:
                dir_name = self.uploaded_code.s3_prefix
        elif self.entry_point is not None:
            script_name = self.entry_point
            if self.source_dir is not None:
                dir_name = self.source_dir if self.source_dir.startswith("s3://") else "file://" + self.source_dir
        return {
            SCRIPT_PARAM_NAME.upper(): script_name,
            DIR_PARAM_NAME.upper(): dir_name,
            CONTAINER_LOG_LEVEL_PARAM_NAME.upper(): to_string(self.container_log_level),
            SAGEMAKER_REGION_PARAM_NAME.upper(): self.sagemaker_session.boto_region_name,
        }

    def _create_sagemaker_model(
        self,
        instance_type=None,
        accelerator_type=None,
        tags=None,
        serverless_inference_config=None,
        accept_eula=None,
        model_reference_arn: Optional[str] = None,
    ):
        """Build the ``CreateModel`` request and hand it to the session."""
        if self.model_package_arn is not None or self.algorithm_arn is not None:
            raise NotImplementedError("Models from model packages or algorithms are not supported by sagepipe.")
        c_def = self.prepare_container_def(
            instance_type,
            accelerator_type=accelerator_type,
            serverless_inference_config=serverless_inference_config,
            accept_eula=accept_eula,
            model_reference_arn=model_reference_arn,
        )
        self._init_sagemaker_session_if_does_not_exist(instance_type)
        self.sagemaker_session.create_model(
            name=self.name,
            role=self.role,
            container_defs=c_def,
            vpc_config=self.vpc_config,
            enable_network_isolation=self._enable_network_isolation,
            tags=tags,
        )


class FrameworkModel(Model):
    """A model served by a framework container in script mode (mirror of ``sagemaker.model.FrameworkModel``).

    The inference code (``entry_point`` in ``source_dir``) is named by the container's
    ``SAGEMAKER_PROGRAM`` / ``SAGEMAKER_SUBMIT_DIRECTORY``. Subclasses for a framework
    (``PyTorchModel``, ``SKLearnModel``, ...) set ``_framework_name`` and get their serving image
    from :mod:`sagepipe.image_uris` when no ``image_uri`` is given; locally, transform steps serve
    them with the script's ``model_fn``/``input_fn``/``predict_fn``/``output_fn``.
    """

    _framework_name: Optional[str] = None
    # Whether create() needs an instance type (or image) to choose a CPU/GPU image.
    _instance_type_required = True
    # Whether the container definition carries ``image_config`` (only Hugging Face models do).
    _passes_image_config = False
    # Whether a registration records the model's framework version when none is given.
    _registers_framework_version = True
    # The image scope asked of image_uris (None: the table's default, as for sklearn/xgboost).
    _serving_image_scope: Optional[str] = "inference"

    def __init__(
        self,
        model_data: Union[str, PipelineVariable, dict],
        image_uri: Union[str, PipelineVariable],
        role: Optional[str] = None,
        entry_point: Optional[str] = None,
        source_dir: Optional[str] = None,
        predictor_cls: Optional[Callable] = None,
        env: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        name: Optional[str] = None,
        container_log_level: Union[int, PipelineVariable] = logging.INFO,
        code_location: Optional[str] = None,
        sagemaker_session=None,
        dependencies: Optional[List[str]] = None,
        git_config: Optional[Dict[str, str]] = None,
        **kwargs,
    ):
        """Initialize a ``FrameworkModel``.

        Args:
            model_data (str or PipelineVariable or dict): The S3 location of the model artifacts.
            image_uri (str or PipelineVariable): The serving image (framework subclasses resolve
                it from their version when None).
            role (str): An IAM role ARN (recorded).
            entry_point (str): The inference script (relative to ``source_dir`` if given).
            source_dir (str): Directory (or S3 ``sourcedir.tar.gz``) with the inference code.
            predictor_cls, env, name, container_log_level, code_location, sagemaker_session,
            dependencies, git_config: As for :class:`Model`.
            **kwargs: Other arguments of :class:`Model`.
        """
        super().__init__(
            image_uri,
            model_data,
            role,
            predictor_cls=predictor_cls,
            env=env,
            name=name,
            sagemaker_session=sagemaker_session,
            source_dir=source_dir,
            code_location=code_location,
            entry_point=entry_point,
            container_log_level=container_log_level,
            dependencies=dependencies,
            git_config=git_config,
            **kwargs,
        )

    def is_repack(self) -> bool:
        """Whether the code is repacked into the model artifacts (not when a ``code_location`` is set)."""
        if self.source_dir is None or self.entry_point is None:
            return False
        return bool(self.source_dir and self.entry_point and not (self.key_prefix or self.git_config))

    def _repack_on_serving(self) -> bool:
        """Whether this framework's container reads its code from inside the model artifacts."""
        return self.is_repack()

    def _image_uri_arguments(self) -> Dict[str, Any]:
        """The version arguments of ``image_uris.retrieve`` for this framework's serving image."""
        return {"version": self.framework_version, "py_version": self.py_version}

    def serving_image_uri(
        self, region_name, instance_type=None, accelerator_type=None, serverless_inference_config=None
    ) -> str:
        """The framework's inference image for ``instance_type`` in ``region_name``."""
        from sagepipe import image_uris

        return image_uris.retrieve(
            self._framework_name,
            region_name,
            instance_type=instance_type,
            accelerator_type=accelerator_type,
            image_scope=self._serving_image_scope,
            serverless_inference_config=serverless_inference_config,
            **self._image_uri_arguments(),
        )

    def _registered_framework(self):
        """The framework name and version a registration records by default."""
        return self._framework_name, self.framework_version if self._registers_framework_version else None

    def _registration_defaults(self, inference_instances, image_uri, framework, framework_version):
        if self._framework_name is None:
            return image_uri, framework, framework_version
        instance_type = inference_instances[0] if inference_instances else None
        self._init_sagemaker_session_if_does_not_exist(instance_type)
        if image_uri:
            self.image_uri = image_uri
        if not self.image_uri:
            self.image_uri = self.serving_image_uri(self.sagemaker_session.boto_region_name, instance_type)
        default_framework, default_version = self._registered_framework()
        if not is_pipeline_variable(framework):
            framework = (framework or default_framework).upper()
        return image_uri, framework, framework_version or default_version

    def _serving_image(self, instance_type, accelerator_type, serverless_inference_config):
        """The image the container definition names: ``image_uri``, else the framework's serving image.

        Choosing the serving image needs an instance type (CPU or GPU) unless the model is serverless
        or its framework has one image for both.
        """
        if self.image_uri:
            return self.image_uri
        if self._instance_type_required and instance_type is None and serverless_inference_config is None:
            raise ValueError("Must supply either an instance type (for choosing CPU vs GPU) or an image URI.")
        self._init_sagemaker_session_if_does_not_exist(instance_type)
        return self.serving_image_uri(
            self.sagemaker_session.boto_region_name,
            instance_type,
            accelerator_type=accelerator_type,
            serverless_inference_config=serverless_inference_config,
        )

    def prepare_container_def(
        self,
        instance_type=None,
        accelerator_type=None,
        serverless_inference_config=None,
        accept_eula=None,
        model_reference_arn=None,
    ):
        """The container definition: the framework image, the code's ``SAGEMAKER_*`` environment, the model data."""
        if self._framework_name is None:
            return super().prepare_container_def(
                instance_type, accelerator_type, serverless_inference_config, accept_eula, model_reference_arn
            )
        deploy_image = self._serving_image(instance_type, accelerator_type, serverless_inference_config)
        deploy_key_prefix = model_code_key_prefix(self.key_prefix, self.name, deploy_image)
        self._upload_code(deploy_key_prefix, repack=self._repack_on_serving())
        deploy_env = dict(self.env)
        deploy_env.update(self._script_mode_env_vars())
        if getattr(self, "model_server_workers", None):
            deploy_env[MODEL_SERVER_WORKERS_PARAM_NAME.upper()] = to_string(self.model_server_workers)
        return container_def(
            deploy_image,
            self.repacked_model_data or self.model_data,
            deploy_env,
            image_config=self.image_config if self._passes_image_config else None,
            accept_eula=accept_eula,
            model_reference_arn=model_reference_arn,
        )


class _VersionedFrameworkModel(FrameworkModel):
    """The shared constructor of the framework models with a ``framework_version`` and ``py_version``.

    Not an SDK class: ``PyTorchModel``, ``MXNetModel``, ``ChainerModel``, ``SKLearnModel`` and
    ``XGBoostModel`` differ only in defaults and in when their code is repacked.
    """

    def __init__(
        self,
        model_data: Union[str, PipelineVariable],
        role: Optional[str] = None,
        entry_point: Optional[str] = None,
        framework_version: Optional[str] = None,
        py_version: Optional[str] = None,
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        predictor_cls: Optional[Callable] = None,
        model_server_workers: Optional[Union[int, PipelineVariable]] = None,
        **kwargs,
    ):
        self._validate_versions(framework_version, py_version, image_uri)
        self.framework_version = framework_version
        self.py_version = py_version
        super().__init__(model_data, image_uri, role, entry_point, predictor_cls=predictor_cls, **kwargs)
        self.model_server_workers = model_server_workers

    def _validate_versions(self, framework_version, py_version, image_uri) -> None:
        validate_version_or_image_args(framework_version, py_version, image_uri)

    def _is_mms_version(self) -> bool:
        """Whether the framework version is served by the Multi Model Server (code inside the model)."""
        return version_tuple(self.framework_version) >= version_tuple(self._LOWEST_MMS_VERSION)


MODEL_PACKAGE_ARN_PATTERN = r"arn:aws:sagemaker:(.*?):(.*?):model-package/(.*?)(?:/(\d+))?$"


class ModelPackage(Model):
    """A model created from a registered model package (mirror of ``sagemaker.model.ModelPackage``).

    ``create()`` builds a ``CreateModel`` request whose container names the package
    (``ModelPackageName``). Marketplace algorithms (``algorithm_arn``) only exist on AWS.
    """

    def __init__(self, role=None, model_data=None, algorithm_arn=None, model_package_arn=None, **kwargs):
        """Initialize a ``ModelPackage``.

        Args:
            role (str): An IAM role ARN (recorded).
            model_data (str): The model artifacts (with ``algorithm_arn``).
            algorithm_arn (str): A marketplace algorithm; not available locally.
            model_package_arn (str): The ARN (or name) of a model package.
            **kwargs: Other arguments of :class:`Model`.

        Raises:
            ValueError: Both or neither of ``model_package_arn`` and ``algorithm_arn``, or
                ``algorithm_arn`` without ``model_data``.
        """
        super().__init__(role=role, model_data=model_data, image_uri=None, **kwargs)
        if model_package_arn and algorithm_arn:
            raise ValueError(
                "model_package_arn and algorithm_arn are mutually exclusive."
                f"Both were provided: model_package_arn: {model_package_arn} algorithm_arn: {algorithm_arn}"
            )
        if model_package_arn is None and algorithm_arn is None:
            raise ValueError("either model_package_arn or algorithm_arn is required. None was provided.")
        if algorithm_arn is not None and model_data is None:
            raise ValueError("model_data must be provided with algorithm_arn")
        self.algorithm_arn = algorithm_arn
        self.model_package_arn = model_package_arn

    def _is_marketplace(self) -> bool:
        return False

    def enable_network_isolation(self):
        """Whether network isolation is enabled (marketplace packages only, which need AWS)."""
        return self._is_marketplace()

    def _create_sagemaker_model(self, *args, **kwargs):
        if self.algorithm_arn:
            raise NotImplementedError(
                "ModelPackage(algorithm_arn=...) creates a package from a marketplace algorithm, which only runs "
                "on AWS; pass model_package_arn= of a registered package instead."
            )
        import re

        from sagepipe.utils import format_tags, name_from_base

        match = re.match(MODEL_PACKAGE_ARN_PATTERN, self.model_package_arn)
        package_name = match.group(3) if match else self.model_package_arn
        c_def = {"ModelPackageName": self.model_package_arn}
        if self.env != {}:
            c_def["Environment"] = self.env
        self._base_name = self._base_name or package_name
        self.name = self.name or name_from_base(self._base_name)
        self._init_sagemaker_session_if_does_not_exist()
        self.sagemaker_session.create_model(
            self.name,
            self.role,
            c_def,
            vpc_config=self.vpc_config,
            enable_network_isolation=self.enable_network_isolation(),
            tags=format_tags(kwargs.get("tags")),
        )
