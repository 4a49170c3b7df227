"""NotebookJobStep (mirror of ``sagemaker.workflow.notebook_job_step``).

A notebook job runs a Jupyter notebook in a SageMaker training job whose image runs the
SageMaker scheduler (``amazon_sagemaker_scheduler``). sagepipe builds the SDK's definition (a
``Training`` step; the notebook, initialization script and dependencies are stored in the
store's S3 area where the SDK uploads them). The scheduler image does not run locally: running
the step fails before the execution starts, unless a handler is registered for the
``NotebookJob`` step type (``sagepipe.local_runners.register_step_type``) or the step is left
out of a selective run.
"""

import os
import re
import shutil
import tempfile
from typing import Dict, List, Optional, Union

from sagepipe.s3 import S3Uploader, s3_path_join
from sagepipe.session import get_execution_role
from sagepipe.utils import _job_name_prefix, format_tags, name_from_base
from sagepipe.workflow.entities import PipelineVariable, RequestType
from sagepipe.workflow.execution_variables import ExecutionVariables
from sagepipe.workflow.functions import Join
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.retry import RetryPolicy
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.step_outputs import StepOutput
from sagepipe.workflow.steps import ConfigurableRetryStep, Step, StepTypeEnum
from sagepipe.workflow.utilities import load_step_compilation_context

# The container entry point that marks a Training step as a notebook job (the engine keys on it).
SCHEDULER_ENTRY_POINT = "amazon_sagemaker_scheduler"
_INPUT_CHANNEL = "sagemaker_headless_execution_pipelinestep"


class NotebookJobStep(ConfigurableRetryStep):
    """`NotebookJobStep` for SageMaker Pipelines Workflows."""

    def __init__(
        self,
        input_notebook: str,
        image_uri: str,
        kernel_name: str,
        name: Optional[str] = None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        notebook_job_name: Optional[str] = None,
        role: Optional[str] = None,
        s3_root_uri: Optional[str] = None,
        parameters: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        environment_variables: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        initialization_script: Optional[str] = None,
        s3_kms_key: Optional[Union[str, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = "ml.m5.large",
        volume_size: Union[int, PipelineVariable] = 30,
        volume_kms_key: Optional[Union[str, PipelineVariable]] = None,
        encrypt_inter_container_traffic: Optional[Union[bool, PipelineVariable]] = True,
        security_group_ids: Optional[List[Union[str, PipelineVariable]]] = None,
        subnets: Optional[List[Union[str, PipelineVariable]]] = None,
        max_retry_attempts: int = 1,
        max_runtime_in_seconds: int = 2 * 24 * 60 * 60,
        tags=None,
        additional_dependencies: Optional[List[str]] = None,
        retry_policies: Optional[List[RetryPolicy]] = None,
        depends_on: Optional[List[Union[Step, StepCollection, StepOutput]]] = None,
    ):
        """Constructs a `NotebookJobStep` (the arguments of the SDK's step).

        Args:
            input_notebook (str): The local path of the notebook to run.
            image_uri (str): The image of the job (must be in the session's region).
            kernel_name (str): The kernel that runs the notebook.
            name (str): The step name (default: derived from the notebook file name).
            notebook_job_name (str): The job name (default: derived from the notebook file name).
            role (str): The IAM role (default: the execution role).
            s3_root_uri (str): Root of the job's input and output (default: the default bucket).
            parameters (dict): Notebook parameters (sent as hyperparameters).
            environment_variables (dict): Environment of the job.
            initialization_script (str): A local script run before the notebook.
            additional_dependencies (List[str]): Local files or folders uploaded with the notebook.
            Other arguments: the job's settings, as in the SDK.
        """
        super().__init__(name, StepTypeEnum.TRAINING, display_name, description, depends_on, retry_policies)
        self.input_notebook = input_notebook
        self.image_uri = image_uri
        self.kernel_name = kernel_name
        self.name = name
        self.display_name = display_name
        self.description = description
        self.notebook_job_name = notebook_job_name
        self.role = role
        self.s3_root_uri = s3_root_uri
        self.parameters = parameters
        self.environment_variables = environment_variables
        self.initialization_script = initialization_script
        self.s3_kms_key = s3_kms_key
        self.instance_type = instance_type
        self.volume_size = volume_size
        self.volume_kms_key = volume_kms_key
        self.encrypt_inter_container_traffic = encrypt_inter_container_traffic
        self.security_group_ids = security_group_ids
        self.subnets = subnets
        self.max_retry_attempts = max_retry_attempts
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.tags = tags
        self.additional_dependencies = additional_dependencies
        self.retry_policies = retry_policies
        self.sagemaker_session = None
        if self.input_notebook and (not self.notebook_job_name or not self.name):
            derived_name = name_from_base(self._get_job_name_prefix(os.path.basename(self.input_notebook)))
            if not self.notebook_job_name:
                self.notebook_job_name = derived_name
            if not self.name:
                self.name = derived_name
        self._scheduler_container_entry_point = [SCHEDULER_ENTRY_POINT]
        self._scheduler_container_arguments = []
        self._properties = self._compose_properties(name)

    def _validate_inputs(self):
        """Every problem of the step's inputs, in one ValueError."""
        errors = []
        if not self.notebook_job_name or not re.match(r"^[a-zA-Z][a-zA-Z0-9_-]*$", self.notebook_job_name):
            errors.append(
                f"Notebook Job Name({self.notebook_job_name}) is not valid. Valid name "
                f"should start with letters and contain only letters, numbers, hyphens, "
                f"and underscores."
            )
        if not self.input_notebook or not os.path.isfile(self.input_notebook):
            errors.append(f"The required input notebook ({self.input_notebook}) is not a valid file.")
        if self.initialization_script and not os.path.isfile(self.initialization_script):
            errors.append(f"The initialization script ({self.initialization_script}) is not a valid file.")
        for path in self.additional_dependencies or []:
            if not os.path.exists(path):
                errors.append(f"The path ({path}) specified in additional dependencies does not exist.")
        if not self.image_uri or self._region_from_session not in self.image_uri:
            errors.append(
                f"The image uri (specified as {self.image_uri}) is required and "
                f"should be hosted in same region of the session"
                f" ({self._region_from_session})."
            )
        if not self.kernel_name:
            errors.append("The kernel name is required.")
        if not self.role:
            errors.append(f"The IAM role is '{self.role}' and no default role can be found.")
        if not self.s3_root_uri:
            errors.append(f"The s3_root_uri is '{self.s3_root_uri}' and no default s3_root_uri can be found.")
        if errors:
            errors_message = "\n  - ".join(errors)
            raise ValueError(f"Validation Errors: \n  - {errors_message}")

    def _resolve_defaults(self):
        """The role (expanded, or the execution role), the S3 root and the VPC config."""
        if self.role:
            self.role = self.sagemaker_session.expand_role(self.role)
        else:
            self.role = get_execution_role(self.sagemaker_session)
        if not self.s3_root_uri:
            self.s3_root_uri = s3_path_join(
                "s3://", self.sagemaker_session.default_bucket(), self.sagemaker_session.default_bucket_prefix
            )
        vpc_config = {}
        if self.subnets and self.security_group_ids:
            vpc_config = {"Subnets": self.subnets, "SecurityGroupIds": self.security_group_ids}
        self.vpc_config = vpc_config or None

    def _prepare_tags(self):
        """The user's tags, then the system tags Studio reads."""
        custom_tags = format_tags(self.tags) or []
        system_tags = [
            {"Key": "sagemaker:name", "Value": self.notebook_job_name},
            {"Key": "sagemaker:notebook-name", "Value": os.path.basename(self.input_notebook)},
            {"Key": "sagemaker:notebook-job-origin", "Value": "PIPELINE_STEP"},
            {"Key": "sagemaker:is-studio-archived", "Value": "false"},
        ]
        return custom_tags + system_tags

    def _prepare_env_variables(self):
        """The user's environment plus the variables the scheduler image reads."""
        job_envs = dict(self.environment_variables or {})
        system_envs = {
            "AWS_DEFAULT_REGION": self._region_from_session,
            "SM_JOB_DEF_VERSION": "1.0",
            "SM_ENV_NAME": "sagemaker-default-env",
            "SM_SKIP_EFS_SIMULATION": "true",
            "SM_EXECUTION_INPUT_PATH": f"/opt/ml/input/data/{_INPUT_CHANNEL}",
            "SM_KERNEL_NAME": self.kernel_name,
            "SM_INPUT_NOTEBOOK_NAME": os.path.basename(self.input_notebook),
            "SM_OUTPUT_NOTEBOOK_NAME": f"{self._underlying_job_prefix}.ipynb",
        }
        if self.initialization_script:
            system_envs["SM_INIT_SCRIPT"] = os.path.basename(self.initialization_script)
        job_envs.update(system_envs)
        return job_envs

    @property
    def properties(self):
        """A `Properties` object representing the notebook job step output."""
        return self._properties

    def _compose_properties(self, step_name):
        root = Properties(step_name=step_name, step=self)
        for prop, path in (
            ("ComputingJobName", "TrainingJobName"),
            ("ComputingJobStatus", "TrainingJobStatus"),
            ("NotebookJobInputLocation", "InputDataConfig[0].DataSource.S3DataSource.S3Uri"),
            ("NotebookJobOutputLocationPrefix", "OutputDataConfig.S3OutputPath"),
            ("InputNotebookName", "Environment['SM_INPUT_NOTEBOOK_NAME']"),
            ("OutputNotebookName", "Environment['SM_OUTPUT_NOTEBOOK_NAME']"),
        ):
            root.__dict__[prop] = Properties(step_name=step_name, step=self, path=path)
        return root

    def to_request(self) -> RequestType:
        """Gets the request structure for workflow service calls."""
        return super().to_request()

    @Step.depends_on.setter
    def depends_on(self, depends_on):
        """NotebookJobStep dependencies can only be extended (``add_depends_on``)."""
        raise ValueError("Cannot set depends_on for a NotebookJobStep. Use add_depends_on instead to extend the list.")

    @property
    def arguments(self) -> RequestType:
        """The ``CreateTrainingJob`` request of the notebook job (files stored on the way)."""
        context = load_step_compilation_context()
        if context is not None:
            self.sagemaker_session = context.sagemaker_session
        if self.sagemaker_session is None:
            from sagepipe.session import Session

            self.sagemaker_session = Session()
        self._region_from_session = self.sagemaker_session.boto_region_name
        self._resolve_defaults()
        self._validate_inputs()
        self._underlying_job_prefix = self._get_job_name_prefix(self.notebook_job_name)
        pipeline_name = context.pipeline_name if context else self._underlying_job_prefix
        input_folder = s3_path_join(self.s3_root_uri, pipeline_name, self.name, name_from_base("input"))
        upload_list = [self.input_notebook]
        if self.initialization_script:
            upload_list.append(self.initialization_script)
        upload_list += self.additional_dependencies or []
        self._upload_job_files(input_folder, upload_list, self.s3_kms_key, self.sagemaker_session)

        request_dict = dict(
            TrainingJobName=self._underlying_job_prefix,
            RoleArn=self.role,
            RetryStrategy={"MaximumRetryAttempts": self.max_retry_attempts},
            StoppingCondition={"MaxRuntimeInSeconds": self.max_runtime_in_seconds},
            EnableInterContainerTrafficEncryption=self.encrypt_inter_container_traffic,
        )
        algorithm_spec = dict(
            TrainingImage=self.image_uri,
            TrainingInputMode="File",
            ContainerEntrypoint=self._scheduler_container_entry_point,
        )
        if self._scheduler_container_arguments:
            algorithm_spec["ContainerArguments"] = self._scheduler_container_arguments
        request_dict["AlgorithmSpecification"] = algorithm_spec
        request_dict["InputDataConfig"] = [
            {
                "ChannelName": _INPUT_CHANNEL,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": input_folder,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
            }
        ]
        if context:
            output_folder = Join(
                "/", [self.s3_root_uri, pipeline_name, ExecutionVariables.PIPELINE_EXECUTION_ID, self.name]
            )
        else:
            output_folder = s3_path_join(self.s3_root_uri, pipeline_name, self.name, "output")
        output_config = {"S3OutputPath": output_folder}
        if self.s3_kms_key is not None:
            output_config["KmsKeyId"] = self.s3_kms_key
        request_dict["OutputDataConfig"] = output_config
        resource_config = dict(VolumeSizeInGB=self.volume_size, InstanceCount=1, InstanceType=self.instance_type)
        if self.volume_kms_key is not None:
            resource_config["VolumeKmsKeyId"] = self.volume_kms_key
        request_dict["ResourceConfig"] = resource_config
        if self.vpc_config:
            request_dict["VpcConfig"] = self.vpc_config
        request_dict["Tags"] = self._prepare_tags()
        request_dict["Environment"] = self._prepare_env_variables()
        if self.parameters:
            request_dict["HyperParameters"] = self.parameters
        return request_dict

    def _get_job_name_prefix(self, notebook_job_name):
        """The training job prefix: the name without leading symbols, other symbols as hyphens."""
        return _job_name_prefix(notebook_job_name)

    def _upload_job_files(self, s3_base_uri, paths_to_upload, kms_key, sagemaker_session):
        """Store the notebook job files and folders under ``s3_base_uri``."""
        with tempfile.TemporaryDirectory() as folder:
            for path in paths_to_upload:
                if os.path.isfile(path):
                    shutil.copy2(path, folder)
                elif os.path.isdir(path):
                    shutil.copytree(path, os.path.join(folder, os.path.basename(path)))
                else:
                    raise ValueError(f"Not supported file type: {path}")
            S3Uploader.upload(folder, s3_base_uri, kms_key, sagemaker_session)
