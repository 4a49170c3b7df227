"""Model repack and register sub-steps (mirror of ``sagemaker.workflow._utils``).

``_RepackModelStep`` is a training step (Scikit-learn image, like the SDK's) whose job runs
``_repack_script_launcher.sh`` -> ``_repack_model.py`` to put inference code into a model archive.
Unlike the SDK it never writes those two scripts into the user's ``source_dir``: they are added
to a private copy that is packed into ``sourcedir.tar.gz``.
"""

import os
import shutil
import tarfile
import tempfile
from typing import TYPE_CHECKING, List, Optional, Union

from sagepipe.workflow.entities import RequestType
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.retry import RetryPolicy
from sagepipe.workflow.steps import ConfigurableRetryStep, Step, StepTypeEnum, TrainingStep

if TYPE_CHECKING:
    from sagepipe.workflow.step_collections import StepCollection

FRAMEWORK_VERSION = "1.2-1"
INSTANCE_TYPE = "ml.m5.large"
REPACK_SCRIPT = "_repack_model.py"
REPACK_SCRIPT_LAUNCHER = "_repack_script_launcher.sh"
# The SDK's launcher script, verbatim.
LAUNCH_REPACK_SCRIPT_CMD = (
    "\n#!/bin/bash\n\n"
    'var_dependencies="${SM_HP_DEPENDENCIES}"\n'
    'var_inference_script="${SM_HP_INFERENCE_SCRIPT}"\n'
    'var_model_archive="${SM_HP_MODEL_ARCHIVE}"\n'
    'var_source_dir="${SM_HP_SOURCE_DIR}"\n\n'
    'python _repack_model.py --dependencies "${var_dependencies}" --inference_script "${var_inference_script}" '
    '--model_archive "${var_model_archive}" --source_dir "${var_source_dir}"\n'
)


class _RepackModelStep(TrainingStep):
    """Repacks model artifacts with custom inference entry points (a training step)."""

    def __init__(
        self,
        name: str,
        sagemaker_session,
        role,
        model_data: str,
        entry_point: str,
        display_name: str = None,
        description: str = None,
        source_dir: str = None,
        dependencies: List = None,
        depends_on: Optional[List[Union[str, Step, "StepCollection"]]] = None,
        retry_policies: List[RetryPolicy] = None,
        subnets=None,
        security_group_ids=None,
        **kwargs,
    ):
        """Base class initializer.

        Args:
            name (str): The name of the training step.
            sagemaker_session: The pipeline session.
            role (str): The IAM role (recorded).
            model_data (str or PipelineVariable): The model archive to repack.
            entry_point (str): The inference script (relative to ``source_dir`` if given).
            display_name (str): The display name of the step.
            description (str): The description of the step.
            source_dir (str): A local directory with the inference code, or the ``s3://`` URI of
                its ``sourcedir.tar.gz``.
            dependencies (list[str]): Extra code files or directories.
            depends_on (list): Explicit dependencies.
            retry_policies (list[RetryPolicy]): Retry policies.
            subnets, security_group_ids (list[str]): Recorded.
            **kwargs: More ``SKLearn`` estimator arguments (``output_path``, ``output_kms_key``, ...).

        An ``s3://`` ``source_dir`` names a ``sourcedir.tar.gz`` in the store: as the SDK does,
        building the arguments adds the repack scripts to that archive in place.
        """
        from sagepipe.inputs import TrainingInput
        from sagepipe.sklearn.estimator import SKLearn

        self._model_data = model_data
        self.sagemaker_session = sagemaker_session
        self.role = role
        self._entry_point = entry_point
        self._entry_point_basename = os.path.basename(self._entry_point)
        self._source_dir = source_dir
        self._dependencies = dependencies
        dependencies_hyperparameter = " ".join(self._dependencies) if self._dependencies else None
        repacker = SKLearn(
            framework_version=kwargs.pop("framework_version", None) or FRAMEWORK_VERSION,
            instance_type=kwargs.pop("instance_type", None) or INSTANCE_TYPE,
            entry_point=REPACK_SCRIPT_LAUNCHER,
            source_dir=self._source_dir,
            dependencies=self._dependencies,
            sagemaker_session=self.sagemaker_session,
            role=self.role,
            hyperparameters={
                "inference_script": self._entry_point_basename,
                "model_archive": self._model_data,
                "dependencies": dependencies_hyperparameter,
                "source_dir": self._source_dir,
            },
            subnets=subnets,
            security_group_ids=security_group_ids,
            **kwargs,
        )
        repacker.disable_profiler = True
        super().__init__(
            name=name,
            display_name=display_name,
            description=description,
            depends_on=depends_on,
            retry_policies=retry_policies,
            estimator=repacker,
            inputs=TrainingInput(self._model_data),
        )

    @property
    def arguments(self) -> RequestType:
        """The training request of the repack job, packing a copy of the code plus the repack scripts."""
        if self._source_dir is not None and str(self._source_dir).lower().startswith("s3://"):
            self._inject_repack_scripts_into_s3_source_dir()
            return super().arguments
        staging = tempfile.mkdtemp(prefix="sagepipe-repack-")
        try:
            if self._source_dir is None:
                shutil.copy2(self._entry_point, os.path.join(staging, self._entry_point_basename))
            else:
                shutil.copytree(self._source_dir, staging, dirs_exist_ok=True)
            self._write_repack_scripts(staging)
            self.estimator.source_dir = staging
            return super().arguments
        finally:
            self.estimator.source_dir = self._source_dir
            shutil.rmtree(staging, ignore_errors=True)

    def _write_repack_scripts(self, directory: str) -> None:
        shutil.copy2(os.path.join(os.path.dirname(__file__), REPACK_SCRIPT), os.path.join(directory, REPACK_SCRIPT))
        # LF endings: the launcher runs under bash whatever host wrote it.
        with open(os.path.join(directory, REPACK_SCRIPT_LAUNCHER), "w", newline="\n") as launcher:
            launcher.write(LAUNCH_REPACK_SCRIPT_CMD)

    def _inject_repack_scripts_into_s3_source_dir(self) -> None:
        """Rewrite the ``sourcedir.tar.gz`` at the ``s3://`` source_dir with the repack scripts added.

        The SDK overwrites that object in S3; here it lives in the session's store, so the repack
        job reads the rewritten archive as its code.

        Raises:
            ValueError: The archive is not in the store (or is not a gzipped tar).
        """
        from sagepipe import s3
        from sagepipe.workflow._repack_model import _extract

        bucket, key = s3.parse_s3_url(self._source_dir)
        try:
            archive = self.sagemaker_session.read_s3_bytes(bucket, key)
        except FileNotFoundError as error:
            raise ValueError(
                f"Step {self.name}: the source_dir archive {self._source_dir} is not in the store ({error})."
            ) from error
        with tempfile.TemporaryDirectory(prefix="sagepipe-repack-") as tmp:
            contents = os.path.join(tmp, "extracted")
            os.makedirs(contents)
            old_archive = os.path.join(tmp, "old.tar.gz")
            with open(old_archive, "wb") as f:
                f.write(archive)
            try:
                _extract(old_archive, contents)
            except tarfile.TarError as error:
                raise ValueError(
                    f"Step {self.name}: the source_dir {self._source_dir} is not a sourcedir.tar.gz archive ({error})."
                ) from error
            self._write_repack_scripts(contents)
            new_archive = os.path.join(tmp, "new.tar.gz")
            with tarfile.open(new_archive, "w:gz") as tar:
                for name in sorted(os.listdir(contents)):
                    tar.add(os.path.join(contents, name), arcname=name)
            with open(new_archive, "rb") as f:
                self.sagemaker_session.upload_string_as_file_body(body=f.read(), bucket=bucket, key=key)

    @property
    def properties(self):
        """A Properties object representing the DescribeTrainingJobResponse data model."""
        return self._properties


class _RegisterModelStep(ConfigurableRetryStep):
    """Register model step in workflow that creates a model package."""

    def __init__(
        self,
        name: str,
        step_args: Optional[dict] = None,
        content_types: Optional[list] = None,
        response_types: Optional[list] = None,
        inference_instances: Optional[list] = None,
        transform_instances: Optional[list] = None,
        estimator=None,
        model_data=None,
        model_package_group_name=None,
        model_metrics=None,
        metadata_properties=None,
        approval_status="PendingManualApproval",
        image_uri=None,
        compile_model_family=None,
        display_name: str = None,
        description=None,
        depends_on: Optional[List[Union[str, Step, "StepCollection"]]] = None,
        retry_policies: Optional[List[RetryPolicy]] = None,
        tags=None,
        container_def_list=None,
        drift_check_baselines=None,
        customer_metadata_properties=None,
        domain=None,
        sample_payload_url=None,
        task=None,
        skip_model_validation=None,
        source_uri=None,
        model_card=None,
        model_life_cycle=None,
        model_package_registration_type=None,
        base_model=None,
        **kwargs,
    ):
        """Constructor of a register model step (``step_args`` is a ``CreateModelPackage`` request)."""
        super().__init__(name, StepTypeEnum.REGISTER_MODEL, display_name, description, depends_on, retry_policies)
        deprecated_args_missing = content_types is None or response_types is None
        if not (step_args is None) ^ deprecated_args_missing:
            raise ValueError(
                "step_args and the set of (content_types, response_types, ) are mutually exclusive. "
                "Either of them should be provided."
            )
        if compile_model_family is not None:
            raise NotImplementedError(f"Step {name}: compiled models (compile_model_family) are not supported.")
        self.step_args = step_args
        self.estimator = estimator
        self.model_data = model_data
        self.content_types = content_types
        self.response_types = response_types
        self.inference_instances = inference_instances
        self.transform_instances = transform_instances
        self.model_package_group_name = model_package_group_name
        self.tags = tags
        self.model_metrics = model_metrics
        self.drift_check_baselines = drift_check_baselines
        self.customer_metadata_properties = customer_metadata_properties
        self.domain = domain
        self.sample_payload_url = sample_payload_url
        self.task = task
        self.metadata_properties = metadata_properties
        self.approval_status = approval_status
        self.image_uri = image_uri
        self.description = description
        self.kwargs = kwargs
        self.container_def_list = container_def_list
        self.skip_model_validation = skip_model_validation
        self.source_uri = source_uri
        self.model_card = model_card
        self.model_life_cycle = model_life_cycle
        self.model_package_registration_type = model_package_registration_type
        self.base_model = base_model
        self._properties = Properties(step_name=name, step=self, shape_name="DescribeModelPackageOutput")

    @property
    def arguments(self) -> RequestType:
        """The ``CreateModelPackage`` request without name, description and marketplace flag."""
        from sagepipe._job_requests import get_create_model_package_request, get_model_package_args
        from sagepipe.workflow.utilities import _pipeline_config, trim_request_dict

        if self.step_args:
            request_dict = self.step_args
        else:
            if self.container_def_list is None:
                output_path = self.estimator.output_path
                self.estimator._current_job_name = self.name
                self.estimator.output_path = "/tmp"
                model = self.estimator.create_model(image_uri=self.image_uri, **self.kwargs)
                if not self.image_uri:
                    self.image_uri = model.image_uri
                self.estimator.output_path = output_path
                if self.image_uri is None:
                    # A framework model without an image: the framework's inference image.
                    self.image_uri = model.serving_image_uri(
                        self.estimator.sagemaker_session.boto_region_name,
                        instance_type=self.kwargs.get("instance_type", self.estimator.instance_type),
                        accelerator_type=self.kwargs.get("accelerator_type"),
                    )
            model_package_args = get_model_package_args(
                content_types=self.content_types,
                response_types=self.response_types,
                inference_instances=self.inference_instances,
                transform_instances=self.transform_instances,
                model_package_group_name=self.model_package_group_name,
                model_data=self.model_data,
                image_uri=self.image_uri,
                model_metrics=self.model_metrics,
                drift_check_baselines=self.drift_check_baselines,
                metadata_properties=self.metadata_properties,
                approval_status=self.approval_status,
                description=self.description,
                tags=self.tags,
                container_def_list=self.container_def_list,
                customer_metadata_properties=self.customer_metadata_properties,
                domain=self.domain,
                sample_payload_url=self.sample_payload_url,
                task=self.task,
                skip_model_validation=self.skip_model_validation,
                source_uri=self.source_uri,
                model_card=self.model_card,
                model_life_cycle=self.model_life_cycle,
                model_package_registration_type=self.model_package_registration_type,
                base_model=self.base_model,
            )
            request_dict = get_create_model_package_request(**model_package_args)
        # The service fills these at execution time (SDK behaviour).
        request_dict.pop("CertifyForMarketplace", None)
        request_dict.pop("Description", None)
        return trim_request_dict(request_dict, "ModelPackageName", _pipeline_config)

    @property
    def properties(self):
        """A Properties object representing the DescribeModelPackageOutput data model."""
        return self._properties
