"""Processing jobs (mirror of ``sagemaker.processing``).

``Processor.run`` (and its subclasses') under a ``PipelineSession`` returns step arguments for a
``ProcessingStep``; the ``CreateProcessingJob`` request is built at definition time exactly as the
SDK builds it: local inputs and ``code=`` scripts are uploaded into the store, unnamed outputs get
the SDK's default ``Join`` URIs. Outside a pipeline session ``run`` raises: sagepipe runs jobs only
as pipeline steps.
"""

import logging
import os
import pathlib
from copy import copy
from textwrap import dedent
from typing import Dict, List, Optional, Union
from urllib.parse import urlparse
from urllib.request import url2pathname

from sagepipe import s3
from sagepipe.network import NetworkConfig  # SDK path: sagemaker.processing.NetworkConfig
from sagepipe.session import session_or_default
from sagepipe.utils import base_name_from_image, format_tags, name_from_base
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.entities import PipelineVariable, ValueObject
from sagepipe.workflow.pipeline_context import runnable_by_pipeline

logger = logging.getLogger(__name__)

__all__ = [
    "FrameworkProcessor",
    "NetworkConfig",
    "ProcessingInput",
    "ProcessingJob",
    "ProcessingOutput",
    "Processor",
    "RunArgs",
    "S3Input",
    "ScriptProcessor",
]


class S3Input(ValueObject):
    """The S3 data of a processing input (mirror of ``sagemaker.dataset_definition.inputs.S3Input``)."""

    def __init__(
        self,
        s3_uri=None,
        local_path=None,
        s3_data_type="S3Prefix",
        s3_input_mode="File",
        s3_data_distribution_type="FullyReplicated",
        s3_compression_type=None,
    ):
        self.s3_uri = s3_uri
        self.local_path = local_path
        self.s3_data_type = s3_data_type
        self.s3_input_mode = s3_input_mode
        self.s3_data_distribution_type = s3_data_distribution_type
        self.s3_compression_type = s3_compression_type

    def _to_request_dict(self):
        fields = (
            ("S3Uri", self.s3_uri),
            ("LocalPath", self.local_path),
            ("S3DataType", self.s3_data_type),
            ("S3InputMode", self.s3_input_mode),
            ("S3DataDistributionType", self.s3_data_distribution_type),
            ("S3CompressionType", self.s3_compression_type),
        )
        return {key: value for key, value in fields if value is not None}


class Processor:
    """Handles Amazon SageMaker Processing tasks."""

    JOB_CLASS_NAME = "processing-job"

    def __init__(
        self,
        role: str = None,
        image_uri: Union[str, PipelineVariable] = None,
        instance_count: Union[int, PipelineVariable] = None,
        instance_type: Union[str, PipelineVariable] = None,
        entrypoint: Optional[List[Union[str, PipelineVariable]]] = None,
        volume_size_in_gb: Union[int, PipelineVariable] = 30,
        volume_kms_key: Optional[Union[str, PipelineVariable]] = None,
        output_kms_key: Optional[Union[str, PipelineVariable]] = None,
        max_runtime_in_seconds: Optional[Union[int, PipelineVariable]] = None,
        base_job_name: Optional[str] = None,
        sagemaker_session=None,
        env: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        tags=None,
        network_config: Optional[NetworkConfig] = None,
    ):
        """Initializes a ``Processor`` instance.

        Args:
            role (str): An AWS IAM role name or ARN (recorded; not needed locally).
            image_uri (str or PipelineVariable): The URI of the Docker image to use.
            instance_count (int or PipelineVariable): The number of instances.
            instance_type (str or PipelineVariable): The type of EC2 instance.
            entrypoint (list[str] or list[PipelineVariable]): The entrypoint of the job.
            volume_size_in_gb (int or PipelineVariable): Size of the ML storage volume (default 30).
            volume_kms_key, output_kms_key (str): KMS keys (recorded).
            max_runtime_in_seconds (int or PipelineVariable): Timeout of the job.
            base_job_name (str): Prefix for the processing job name.
            sagemaker_session (sagepipe.session.Session): The session (a ``PipelineSession`` to
                build pipeline steps).
            env (dict[str, str] or dict[str, PipelineVariable]): Environment variables.
            tags (list[dict]): Tags (recorded).
            network_config (NetworkConfig): Network configuration (recorded).

        Raises:
            ValueError: No role was given.
        """
        self.image_uri = image_uri
        self.instance_count = instance_count
        self.instance_type = instance_type
        self.entrypoint = entrypoint
        self.volume_size_in_gb = volume_size_in_gb
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.base_job_name = base_job_name
        self.tags = format_tags(tags)
        self.jobs = []
        self.latest_job = None
        self._current_job_name = None
        self.arguments = None
        sagemaker_session = session_or_default(sagemaker_session)
        self.sagemaker_session = sagemaker_session
        # What the caller left out comes from the SageMaker config here, when the processor is
        # made (as the SDK), so every step form (step_args or processor=) carries the defaults.
        from sagepipe import config

        session = self.sagemaker_session
        self.output_kms_key = config.resolve_value_from_config(
            output_kms_key, config.PROCESSING_JOB_KMS_KEY_ID_PATH, None, session
        )
        self.volume_kms_key = config.resolve_value_from_config(
            volume_kms_key, config.PROCESSING_JOB_VOLUME_KMS_KEY_ID_PATH, None, session
        )
        for attribute, path in (
            ("subnets", config.PROCESSING_JOB_SUBNETS_PATH),
            ("security_group_ids", config.PROCESSING_JOB_SECURITY_GROUP_IDS_PATH),
            ("enable_network_isolation", config.PROCESSING_JOB_ENABLE_NETWORK_ISOLATION_PATH),
            ("encrypt_inter_container_traffic", config.PROCESSING_JOB_INTER_CONTAINER_ENCRYPTION_PATH),
        ):
            network_config = config.resolve_class_attribute_from_config(
                NetworkConfig, network_config, attribute, path, sagemaker_session=session
            )
        self.network_config = network_config
        self.role = config.resolve_value_from_config(role, config.PROCESSING_JOB_ROLE_ARN_PATH, None, session)
        if not self.role:
            raise ValueError("An AWS IAM role is required to create a Processing job.")
        self.env = config.resolve_value_from_config(env, config.PROCESSING_JOB_ENVIRONMENT_PATH, None, session)

    @runnable_by_pipeline
    def run(
        self,
        inputs: Optional[List["ProcessingInput"]] = None,
        outputs: Optional[List["ProcessingOutput"]] = None,
        arguments: Optional[List[Union[str, PipelineVariable]]] = None,
        wait: bool = True,
        logs: bool = True,
        job_name: Optional[str] = None,
        experiment_config: Optional[Dict[str, str]] = None,
        kms_key: Optional[str] = None,
    ):
        """Runs a processing job (under a ``PipelineSession``: returns ``ProcessingStep`` args).

        Args:
            inputs (list[ProcessingInput]): Input files for the processing job.
            outputs (list[ProcessingOutput]): Outputs for the processing job.
            arguments (list[str] or list[PipelineVariable]): Container arguments.
            wait (bool): Forced to False under a pipeline session.
            logs (bool): Forced to False under a pipeline session.
            job_name (str): Processing job name (popped from the step definition).
            experiment_config (dict[str, str]): Experiment management configuration.
            kms_key (str): KMS key for uploaded code (recorded).
        """
        if logs and not wait:
            raise ValueError(
                "Logs can only be shown if wait is set to True. Please either set wait to True or set logs to False."
            )
        normalized_inputs, normalized_outputs = self._normalize_args(
            job_name=job_name, arguments=arguments, inputs=inputs, kms_key=kms_key, outputs=outputs
        )
        self.latest_job = ProcessingJob.start_new(
            processor=self, inputs=normalized_inputs, outputs=normalized_outputs, experiment_config=experiment_config
        )
        self.jobs.append(self.latest_job)

    def _normalize_args(self, job_name=None, arguments=None, inputs=None, outputs=None, code=None, kms_key=None):
        """Normalizes the arguments so that they can be passed to the job run."""
        if code and is_pipeline_variable(code):
            raise ValueError(
                "code argument has to be a valid S3 URI or local file path rather than a pipeline variable"
            )
        self._current_job_name = self._generate_current_job_name(job_name=job_name)
        inputs_with_code = self._include_code_in_inputs(inputs, code, kms_key)
        normalized_inputs = self._normalize_inputs(inputs_with_code, kms_key)
        normalized_outputs = self._normalize_outputs(outputs)
        self.arguments = arguments
        return normalized_inputs, normalized_outputs

    def _include_code_in_inputs(self, inputs, _code, _kms_key):
        """A no-op for the base processor (``ScriptProcessor`` adds the code input)."""
        return inputs

    def _generate_current_job_name(self, job_name=None):
        """The job name: ``job_name``, else a timestamped name from the base job name or image."""
        if job_name is not None:
            return job_name
        if self.base_job_name:
            base_name = self.base_job_name
        else:
            base_name = base_name_from_image(self.image_uri, default_base_name=Processor.JOB_CLASS_NAME)
        return name_from_base(base_name)

    def _normalize_inputs(self, inputs=None, kms_key=None):
        """Name unnamed inputs ``input-<i>`` and upload local sources into the store."""
        from sagepipe.workflow.utilities import _pipeline_config

        normalized_inputs = []
        if inputs is None:
            return normalized_inputs
        for count, file_input in enumerate(inputs, 1):
            if not isinstance(file_input, ProcessingInput):
                raise TypeError("Your inputs must be provided as ProcessingInput objects.")
            if file_input.input_name is None:
                file_input.input_name = f"input-{count}"
            if is_pipeline_variable(file_input.source) or is_pipeline_variable(file_input.s3_input.s3_uri):
                normalized_inputs.append(file_input)
                continue
            if urlparse(file_input.s3_input.s3_uri).scheme != "s3":
                session = self.sagemaker_session
                if _pipeline_config:
                    prefix = (_pipeline_config.pipeline_name, _pipeline_config.step_name)
                else:
                    prefix = (self._current_job_name,)
                desired_s3_uri = s3.default_bucket_uri(session, *prefix, "input", file_input.input_name)
                local_path = file_input.s3_input.s3_uri
                if local_path.startswith("file://"):
                    local_path = url2pathname(urlparse(local_path).path)
                file_input.s3_input.s3_uri = s3.S3Uploader.upload(
                    local_path=local_path, desired_s3_uri=desired_s3_uri, sagemaker_session=session
                )
            normalized_inputs.append(file_input)
        return normalized_inputs

    def _normalize_outputs(self, outputs=None):
        """Name unnamed outputs ``output-<i>`` and give outputs without S3 destination the default URI."""
        from sagepipe.workflow.utilities import _pipeline_config

        normalized_outputs = []
        if outputs is None:
            return normalized_outputs
        for count, output in enumerate(outputs, 1):
            if not isinstance(output, ProcessingOutput):
                raise TypeError("Your outputs must be provided as ProcessingOutput objects.")
            if output.output_name is None:
                output.output_name = f"output-{count}"
            if is_pipeline_variable(output.destination):
                normalized_outputs.append(output)
                continue
            if urlparse(output.destination).scheme != "s3":
                session = self.sagemaker_session
                if _pipeline_config:
                    output.destination = s3.pipeline_execution_uri(
                        session,
                        _pipeline_config.pipeline_name,
                        _pipeline_config.step_name,
                        "output",
                        output.output_name,
                    )
                else:
                    output.destination = s3.default_bucket_uri(
                        session, self._current_job_name, "output", output.output_name
                    )
            normalized_outputs.append(output)
        return normalized_outputs


class ScriptProcessor(Processor):
    """Handles Amazon SageMaker processing tasks for jobs using a machine learning framework."""

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        image_uri: Union[str, PipelineVariable] = None,
        command: List[str] = None,
        instance_count: Union[int, PipelineVariable] = None,
        instance_type: Union[str, PipelineVariable] = None,
        volume_size_in_gb: Union[int, PipelineVariable] = 30,
        volume_kms_key: Optional[Union[str, PipelineVariable]] = None,
        output_kms_key: Optional[Union[str, PipelineVariable]] = None,
        max_runtime_in_seconds: Optional[Union[int, PipelineVariable]] = None,
        base_job_name: Optional[str] = None,
        sagemaker_session=None,
        env: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        tags=None,
        network_config: Optional[NetworkConfig] = None,
    ):
        """Initializes a ``ScriptProcessor``: a ``Processor`` running ``command + [code]``.

        Args:
            command (list[str]): The command to run, along with any command-line flags
                (e.g. ``["python3", "-v"]``); the uploaded ``code`` path is appended.
            Other arguments: see :class:`Processor`.
        """
        self._CODE_CONTAINER_BASE_PATH = "/opt/ml/processing/input/"
        self._CODE_CONTAINER_INPUT_NAME = "code"
        self.command = command
        super().__init__(
            role=role,
            image_uri=image_uri,
            instance_count=instance_count,
            instance_type=instance_type,
            volume_size_in_gb=volume_size_in_gb,
            volume_kms_key=volume_kms_key,
            output_kms_key=output_kms_key,
            max_runtime_in_seconds=max_runtime_in_seconds,
            base_job_name=base_job_name,
            sagemaker_session=sagemaker_session,
            env=env,
            tags=tags,
            network_config=network_config,
        )

    def get_run_args(self, code, inputs=None, outputs=None, arguments=None):
        """Returns a RunArgs object (deprecated in the SDK; use ``run()`` under a PipelineSession)."""
        from sagepipe.workflow.utilities import log_warning_once

        log_warning_once(
            logger,
            "This function has been deprecated and could break pipeline step caching. We recommend using the "
            "run() function directly with pipeline sessions to access step arguments.",
        )
        return RunArgs(code=code, inputs=inputs, outputs=outputs, arguments=arguments)

    @runnable_by_pipeline
    def run(
        self,
        code: str,
        inputs: Optional[List["ProcessingInput"]] = None,
        outputs: Optional[List["ProcessingOutput"]] = None,
        arguments: Optional[List[Union[str, PipelineVariable]]] = None,
        wait: bool = True,
        logs: bool = True,
        job_name: Optional[str] = None,
        experiment_config: Optional[Dict[str, str]] = None,
        kms_key: Optional[str] = None,
    ):
        """Runs a processing job (under a ``PipelineSession``: returns ``ProcessingStep`` args).

        Args:
            code (str): An S3 URI or a local path to the script to run. A local script is
                uploaded to ``s3://<bucket>/<pipeline>/code/<hash>/<name>`` at definition time.
            Other arguments: see :meth:`Processor.run`.
        """
        normalized_inputs, normalized_outputs = self._normalize_args(
            job_name=job_name, arguments=arguments, inputs=inputs, outputs=outputs, code=code, kms_key=kms_key
        )
        self.latest_job = ProcessingJob.start_new(
            processor=self, inputs=normalized_inputs, outputs=normalized_outputs, experiment_config=experiment_config
        )
        self.jobs.append(self.latest_job)

    def _include_code_in_inputs(self, inputs, code, kms_key=None):
        """Upload the code, add it as the ``code`` input and set the entrypoint."""
        user_code_s3_uri = self._handle_user_code_url(code, kms_key)
        user_script_name = self._get_user_code_name(code)
        inputs_with_code = self._convert_code_and_add_to_inputs(inputs, user_code_s3_uri)
        self._set_entrypoint(self.command, user_script_name)
        return inputs_with_code

    def _get_user_code_name(self, code):
        return os.path.basename(urlparse(code).path)

    def _handle_user_code_url(self, code, kms_key=None):
        code_url = urlparse(code)
        if code_url.scheme == "s3":
            return code
        if code_url.scheme in ("", "file"):
            code_path = url2pathname(code_url.path)
            if not os.path.exists(code_path):
                raise ValueError(f"code {code} wasn't found. Please make sure that the file exists.")
            if not os.path.isfile(code_path):
                raise ValueError(f"code {code} must be a file, not a directory. Please pass a path to a file.")
            return self._upload_code(code_path, kms_key)
        raise ValueError(
            f"code {code} url scheme {code_url.scheme} is not recognized. Please pass a file path or S3 url"
        )

    def _upload_code(self, code, kms_key=None):
        """Upload the script to ``s3://<bucket>/<pipeline>/code/<hash>/`` (or the job's input prefix)."""
        from sagepipe.workflow.utilities import _pipeline_config

        session = self.sagemaker_session
        if _pipeline_config and _pipeline_config.code_hash:
            desired_s3_uri = s3.default_bucket_uri(
                session, _pipeline_config.pipeline_name, self._CODE_CONTAINER_INPUT_NAME, _pipeline_config.code_hash
            )
        else:
            desired_s3_uri = s3.default_bucket_uri(
                session, self._current_job_name, "input", self._CODE_CONTAINER_INPUT_NAME
            )
        return s3.S3Uploader.upload(local_path=code, desired_s3_uri=desired_s3_uri, sagemaker_session=session)

    def _convert_code_and_add_to_inputs(self, inputs, s3_uri):
        code_file_input = ProcessingInput(
            source=s3_uri,
            destination=str(pathlib.PurePosixPath(self._CODE_CONTAINER_BASE_PATH, self._CODE_CONTAINER_INPUT_NAME)),
            input_name=self._CODE_CONTAINER_INPUT_NAME,
        )
        return (inputs or []) + [code_file_input]

    def _set_entrypoint(self, command, user_script_name):
        user_script_location = str(
            pathlib.PurePosixPath(self._CODE_CONTAINER_BASE_PATH, self._CODE_CONTAINER_INPUT_NAME, user_script_name)
        )
        self.entrypoint = command + [user_script_location]


class ProcessingJob:
    """Provides functionality to start, describe, and stop processing jobs."""

    def __init__(self, sagemaker_session, job_name, inputs, outputs, output_kms_key=None):
        """Initializes a Processing job (here: the carrier of a step's request)."""
        self.sagemaker_session = sagemaker_session
        self.job_name = job_name
        self.inputs = inputs
        self.outputs = outputs
        self.output_kms_key = output_kms_key

    @property
    def name(self):
        """The job name."""
        return self.job_name

    @classmethod
    def start_new(cls, processor, inputs, outputs, experiment_config):
        """Build the ``CreateProcessingJob`` request and hand it to the session.

        Under a ``PipelineSession`` the request is captured as step arguments.
        """
        process_args = cls._get_process_args(processor, inputs, outputs, experiment_config)
        processor.sagemaker_session.process(**process_args)
        return cls(processor.sagemaker_session, processor._current_job_name, inputs, outputs, processor.output_kms_key)

    @classmethod
    def _get_process_args(cls, processor, inputs, outputs, experiment_config):
        """The keyword arguments of ``Session.process`` for this processor, inputs and outputs."""
        process_request_args = {
            "inputs": [inp._to_request_dict() for inp in inputs],
            "output_config": {"Outputs": [output._to_request_dict() for output in outputs]},
        }
        if processor.output_kms_key is not None:
            process_request_args["output_config"]["KmsKeyId"] = processor.output_kms_key
        process_request_args["experiment_config"] = experiment_config
        process_request_args["job_name"] = processor._current_job_name
        cluster_config = {
            "InstanceType": processor.instance_type,
            "InstanceCount": processor.instance_count,
            "VolumeSizeInGB": processor.volume_size_in_gb,
        }
        if processor.volume_kms_key is not None:
            cluster_config["VolumeKmsKeyId"] = processor.volume_kms_key
        process_request_args["resources"] = {"ClusterConfig": cluster_config}
        if processor.max_runtime_in_seconds is not None:
            process_request_args["stopping_condition"] = {"MaxRuntimeInSeconds": processor.max_runtime_in_seconds}
        else:
            process_request_args["stopping_condition"] = None
        app_specification = {"ImageUri": processor.image_uri}
        if processor.arguments is not None:
            app_specification["ContainerArguments"] = processor.arguments
        if processor.entrypoint is not None:
            app_specification["ContainerEntrypoint"] = processor.entrypoint
        process_request_args["app_specification"] = app_specification
        process_request_args["environment"] = processor.env
        if processor.network_config is not None:
            process_request_args["network_config"] = processor.network_config._to_request_dict()
        else:
            process_request_args["network_config"] = None
        role = processor.role
        process_request_args["role_arn"] = (
            role if is_pipeline_variable(role) else processor.sagemaker_session.expand_role(role)
        )
        process_request_args["tags"] = processor.tags
        return process_request_args


class ProcessingInput:
    """Accepts parameters that specify an Amazon S3 input for a processing job."""

    def __init__(
        self,
        source: Optional[Union[str, PipelineVariable]] = None,
        destination: Optional[Union[str, PipelineVariable]] = None,
        input_name: Optional[Union[str, PipelineVariable]] = None,
        s3_data_type: Union[str, PipelineVariable] = "S3Prefix",
        s3_input_mode: Union[str, PipelineVariable] = "File",
        s3_data_distribution_type: Union[str, PipelineVariable] = "FullyReplicated",
        s3_compression_type: Union[str, PipelineVariable] = "None",
        s3_input: Optional[S3Input] = None,
        dataset_definition=None,
        app_managed: Union[bool, PipelineVariable] = False,
    ):
        """Initializes a ``ProcessingInput`` instance.

        Args:
            source (str or PipelineVariable): The source of the input: an S3 URI, a local path or
                a ``file://`` URI (local data is uploaded into the store at definition time).
            destination (str or PipelineVariable): The container path the input is put at.
            input_name (str or PipelineVariable): The name of the input (default ``input-<i>``).
            s3_data_type (str): ``S3Prefix`` (default) or ``ManifestFile``.
            s3_input_mode (str): ``File`` (default) or ``Pipe``.
            s3_data_distribution_type (str): ``FullyReplicated`` (default) or ``ShardedByS3Key``.
            s3_compression_type (str): ``None`` (default) or ``Gzip``.
            s3_input (S3Input): An alternative way to specify the S3 input.
            dataset_definition: Athena/Redshift dataset definitions are not supported locally.
            app_managed (bool or PipelineVariable): Whether the input is managed by the app.

        Raises:
            NotImplementedError: A ``dataset_definition`` was given.
        """
        if dataset_definition is not None:
            raise NotImplementedError(
                "ProcessingInput(dataset_definition=...) (Athena/Redshift) is not supported by sagepipe; "
                "use an S3 URI or a local path as source."
            )
        self.source = source
        self.destination = destination
        self.input_name = input_name
        self.s3_data_type = s3_data_type
        self.s3_input_mode = s3_input_mode
        self.s3_data_distribution_type = s3_data_distribution_type
        self.s3_compression_type = s3_compression_type
        self.s3_input = s3_input
        self.dataset_definition = None
        self.app_managed = app_managed
        self._create_s3_input()

    def _to_request_dict(self):
        """Generates a request dictionary using the parameters provided to the class."""
        s3_input_request = {"InputName": self.input_name, "AppManaged": self.app_managed}
        if self.s3_input:
            if self.s3_input.s3_compression_type == "Gzip" and self.s3_input.s3_input_mode != "Pipe":
                raise ValueError("Data can only be gzipped when the input mode is Pipe.")
            s3_input_request["S3Input"] = self.s3_input._to_request_dict()
        return s3_input_request

    def _create_s3_input(self):
        if self.s3_input is not None:
            self.source = self.s3_input.s3_uri
            self.destination = self.s3_input.local_path
            self.s3_data_type = self.s3_input.s3_data_type
            self.s3_input_mode = self.s3_input.s3_input_mode
            self.s3_data_distribution_type = self.s3_input.s3_data_distribution_type
        elif self.source is not None and self.destination is not None:
            self.s3_input = S3Input(
                s3_uri=self.source,
                local_path=self.destination,
                s3_data_type=self.s3_data_type,
                s3_input_mode=self.s3_input_mode,
                s3_data_distribution_type=self.s3_data_distribution_type,
                s3_compression_type=self.s3_compression_type,
            )


class ProcessingOutput:
    """Accepts parameters that specify an Amazon S3 output for a processing job."""

    def __init__(
        self,
        source: Optional[Union[str, PipelineVariable]] = None,
        destination: Optional[Union[str, PipelineVariable]] = None,
        output_name: Optional[Union[str, PipelineVariable]] = None,
        s3_upload_mode: Union[str, PipelineVariable] = "EndOfJob",
        app_managed: Union[bool, PipelineVariable] = False,
        feature_store_output=None,
    ):
        """Initializes a ``ProcessingOutput`` instance.

        Args:
            source (str or PipelineVariable): The container path the output is read from.
            destination (str or PipelineVariable): The S3 URI to upload to (default: the
                pipeline's ``.../<execution id>/<step>/output/<name>`` Join).
            output_name (str or PipelineVariable): The name of the output (default ``output-<i>``).
            s3_upload_mode (str): ``EndOfJob`` (default) or ``Continuous``.
            app_managed (bool or PipelineVariable): Whether the output is managed by the app.
            feature_store_output: Feature Store outputs are not supported locally.

        Raises:
            NotImplementedError: A ``feature_store_output`` was given.
        """
        if feature_store_output is not None:
            raise NotImplementedError("ProcessingOutput(feature_store_output=...) is not supported by sagepipe.")
        self.source = source
        self.destination = destination
        self.output_name = output_name
        self.s3_upload_mode = s3_upload_mode
        self.app_managed = app_managed
        self.feature_store_output = None

    def _to_request_dict(self):
        """Generates a request dictionary using the parameters provided to the class."""
        s3_output_request = {"OutputName": self.output_name, "AppManaged": self.app_managed}
        if self.source is not None:
            s3_output_request["S3Output"] = {
                "S3Uri": self.destination,
                "LocalPath": self.source,
                "S3UploadMode": self.s3_upload_mode,
            }
        return s3_output_request


class RunArgs(ValueObject):
    """Accepts parameters that correspond to ScriptProcessors (``code``, inputs, outputs, arguments)."""

    def __init__(self, code, inputs=None, outputs=None, arguments=None):
        self.code = code
        self.inputs = inputs
        self.outputs = outputs
        self.arguments = arguments


class FrameworkProcessor(ScriptProcessor):
    """Handles Amazon SageMaker processing tasks for jobs using a framework estimator's image.

    The code (``source_dir`` or the script) is packed into ``sourcedir.tar.gz`` like an
    estimator's, and a generated ``runproc.sh`` unpacks it and runs ``command + [code]``.
    """

    framework_entrypoint_command = ["/bin/bash"]

    def __init__(
        self,
        estimator_cls: type,
        framework_version: str,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Union[int, PipelineVariable] = None,
        instance_type: Union[str, PipelineVariable] = None,
        py_version: str = "py3",
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        command: Optional[List[str]] = None,
        volume_size_in_gb: Union[int, PipelineVariable] = 30,
        volume_kms_key: Optional[Union[str, PipelineVariable]] = None,
        output_kms_key: Optional[Union[str, PipelineVariable]] = None,
        code_location: Optional[str] = None,
        max_runtime_in_seconds: Optional[Union[int, PipelineVariable]] = None,
        base_job_name: Optional[str] = None,
        sagemaker_session=None,
        env: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        tags=None,
        network_config: Optional[NetworkConfig] = None,
    ):
        """Initializes a ``FrameworkProcessor`` instance.

        Args:
            estimator_cls (type): A framework estimator class (e.g. ``SKLearn``), used to pick
                the image and to pack the code.
            framework_version (str): The version of the framework.
            py_version (str): The Python version (default ``py3``).
            command (list[str]): The command running the code (default ``["python"]``).
            code_location (str): The S3 prefix for the packed code (default: the pipeline's
                ``code/<hash>`` prefix).
            Other arguments: see :class:`ScriptProcessor`.
        """
        if not command:
            command = ["python"]
        self.estimator_cls = estimator_cls
        self.framework_version = framework_version
        self.py_version = py_version
        super().__init__(
            role=role,
            image_uri=image_uri,
            command=command,
            instance_count=instance_count,
            instance_type=instance_type,
            volume_size_in_gb=volume_size_in_gb,
            volume_kms_key=volume_kms_key,
            output_kms_key=output_kms_key,
            max_runtime_in_seconds=max_runtime_in_seconds,
            base_job_name=base_job_name,
            sagemaker_session=sagemaker_session,
            env=env,
            tags=tags,
            network_config=network_config,
        )
        self._CODE_CONTAINER_INPUT_NAME = "entrypoint"
        self.code_location = code_location[:-1] if code_location and code_location.endswith("/") else code_location
        if image_uri is None or base_job_name is None:
            est = self._create_estimator()
            if image_uri is None:
                self.image_uri = est.training_image_uri()
            if base_job_name is None:
                self.base_job_name = est.base_job_name or estimator_cls._framework_name

    def _create_estimator(self, entry_point="", source_dir=None, dependencies=None, git_config=None):
        """Instantiate the framework estimator that packs the code."""
        return self.estimator_cls(
            framework_version=self.framework_version,
            instance_count=1,
            output_kms_key=self.output_kms_key,
            **self._code_packing_estimator_args(entry_point, source_dir, dependencies, git_config),
        )

    def _code_packing_estimator_args(self, entry_point, source_dir, dependencies, git_config):
        """The arguments of the estimator that packs the code, apart from its framework's versions.

        It packs and stages the code only: no network isolation, debugger or profiler.
        """
        return dict(
            py_version=self.py_version,
            entry_point=entry_point,
            source_dir=source_dir,
            dependencies=dependencies,
            git_config=git_config,
            code_location=self.code_location,
            enable_network_isolation=False,
            image_uri=self.image_uri,
            role=self.role,
            instance_type=self.instance_type,
            sagemaker_session=self.sagemaker_session,
            debugger_hook_config=False,
            disable_profiler=True,
        )

    def get_run_args(
        self,
        code,
        source_dir=None,
        dependencies=None,
        git_config=None,
        inputs=None,
        outputs=None,
        arguments=None,
        job_name=None,
    ):
        """Returns a RunArgs object (deprecated in the SDK; use ``run()`` under a PipelineSession)."""
        s3_runproc_sh, inputs, job_name = self._pack_and_upload_code(
            code, source_dir, dependencies, git_config, job_name, inputs
        )
        return RunArgs(s3_runproc_sh, inputs=inputs, outputs=outputs, arguments=arguments)

    @runnable_by_pipeline
    def run(
        self,
        code: str,
        source_dir: Optional[str] = None,
        dependencies: Optional[List[str]] = None,
        git_config: Optional[Dict[str, str]] = None,
        inputs: Optional[List[ProcessingInput]] = None,
        outputs: Optional[List[ProcessingOutput]] = None,
        arguments: Optional[List[Union[str, PipelineVariable]]] = None,
        wait: bool = True,
        logs: bool = True,
        job_name: Optional[str] = None,
        experiment_config: Optional[Dict[str, str]] = None,
        kms_key: Optional[str] = None,
        codeartifact_repo_arn: Optional[str] = None,
    ):
        """Runs a processing job (under a ``PipelineSession``: returns ``ProcessingStep`` args).

        Args:
            code (str): The script to run (relative to ``source_dir`` if given), or an S3 URI.
            source_dir (str): A local directory (or S3 ``sourcedir.tar.gz``) with the code.
            dependencies (list[str]): Extra files or directories packed with the code.
            git_config (dict[str, str]): Not supported locally.
            codeartifact_repo_arn (str): Recorded in ``runproc.sh`` (pip login when run).
            Other arguments: see :meth:`Processor.run`.
        """
        if git_config:
            raise NotImplementedError("FrameworkProcessor.run(git_config=...) is not supported by sagepipe.")
        s3_runproc_sh, inputs, job_name = self._pack_and_upload_code(
            code, source_dir, dependencies, git_config, job_name, inputs, kms_key, codeartifact_repo_arn
        )
        # The SDK chains to ScriptProcessor.run; its step args are executed in turn.
        return super().run(
            code=s3_runproc_sh,
            inputs=inputs,
            outputs=outputs,
            arguments=arguments,
            wait=wait,
            logs=logs,
            job_name=job_name,
            experiment_config=experiment_config,
            kms_key=kms_key,
        )

    def _pack_and_upload_code(
        self, code, source_dir, dependencies, git_config, job_name, inputs, kms_key=None, codeartifact_repo_arn=None
    ):
        """Pack and upload the code like an estimator, then upload ``runproc.sh``."""
        if is_pipeline_variable(code):
            # The code is packed when the definition is built, so it cannot wait for a run's value.
            raise ValueError(
                "code argument has to be a valid S3 URI or local file path rather than a pipeline variable"
            )
        if code.startswith("s3://"):
            return code, inputs, job_name
        if job_name is None:
            job_name = self._generate_current_job_name(job_name)
        estimator = self._create_estimator(entry_point=code, source_dir=source_dir, dependencies=dependencies)
        estimator._prepare_for_training(job_name=job_name)
        inputs = self._patch_inputs_with_payload(inputs, estimator._hyperparameters["sagemaker_submit_directory"])
        if "/sourcedir.tar.gz" not in estimator.uploaded_code.s3_prefix:
            raise RuntimeError("S3 source_dir file must be named `sourcedir.tar.gz.`")
        entrypoint_s3_uri = estimator.uploaded_code.s3_prefix.replace("sourcedir.tar.gz", "runproc.sh")
        s3_runproc_sh = self._create_and_upload_runproc(
            estimator.uploaded_code.script_name,
            kms_key or self.output_kms_key,
            entrypoint_s3_uri,
            codeartifact_repo_arn,
        )
        return s3_runproc_sh, inputs, job_name

    def _get_codeartifact_command(self, codeartifact_repo_arn: str) -> str:
        import re

        m = re.match(
            r"arn:(?P<partition>[^:]+):codeartifact:(?P<region>[^:]+):(?P<account>[^:]+):"
            r"repository/(?P<domain>[^/]+)/(?P<repository>.+)",
            codeartifact_repo_arn,
        )
        if not m:
            raise ValueError(f"invalid CodeArtifact repository arn {codeartifact_repo_arn}")
        return (
            f"aws codeartifact login --tool pip --domain {m.group('domain')} --domain-owner {m.group('account')} "
            f"--repository {m.group('repository')} --region {m.group('region')}"
        )

    def _generate_framework_script(self, user_script: str, codeartifact_repo_arn: str = None) -> str:
        """The ``runproc.sh`` that unpacks ``sourcedir.tar.gz`` and runs the user script (SDK text)."""
        if codeartifact_repo_arn:
            codeartifact_login_command = self._get_codeartifact_command(codeartifact_repo_arn)
        else:
            codeartifact_login_command = "echo 'CodeArtifact repository not specified. Skipping login.'"
        return dedent(
            """\
            #!/bin/bash

            cd /opt/ml/processing/input/code/
            tar -xzf sourcedir.tar.gz

            # Exit on any error. SageMaker uses error code to mark failed job.
            set -e

            if [[ -f 'requirements.txt' ]]; then
                # Optionally log into CodeArtifact
                if ! hash aws 2>/dev/null; then
                    echo "AWS CLI is not installed. Skipping CodeArtifact login."
                else
                    {codeartifact_login_command}
                fi

                # Some py3 containers has typing, which may breaks pip install
                pip uninstall --yes typing

                python -m pip install -r requirements.txt
            fi

            {entry_point_command} {entry_point} "$@"
        """
        ).format(
            codeartifact_login_command=codeartifact_login_command,
            entry_point_command=" ".join(self.command),
            entry_point=user_script,
        )

    def _patch_inputs_with_payload(self, inputs, s3_payload) -> List[ProcessingInput]:
        patched_inputs = copy(inputs) if inputs is not None else []
        patched_inputs.append(
            ProcessingInput(input_name="code", source=s3_payload, destination="/opt/ml/processing/input/code/")
        )
        return patched_inputs

    def _set_entrypoint(self, command, user_script_name):
        super()._set_entrypoint(self.framework_entrypoint_command, user_script_name)

    def _create_and_upload_runproc(self, user_script, kms_key, entrypoint_s3_uri, codeartifact_repo_arn=None):
        """Upload ``runproc.sh`` to ``s3://<bucket>/<pipeline>/code/<hash of its text>/runproc.sh``."""
        from sagepipe.workflow.utilities import _pipeline_config, hash_object

        runproc_file_str = self._generate_framework_script(user_script, codeartifact_repo_arn)
        if _pipeline_config and _pipeline_config.pipeline_name:
            s3_uri = s3.default_bucket_uri(
                self.sagemaker_session,
                _pipeline_config.pipeline_name,
                "code",
                hash_object(runproc_file_str),
                "runproc.sh",
            )
        else:
            s3_uri = entrypoint_s3_uri
        return s3.S3Uploader.upload_string_as_file_body(
            runproc_file_str, desired_s3_uri=s3_uri, kms_key=kms_key, sagemaker_session=self.sagemaker_session
        )


class _SingleFrameworkProcessor(FrameworkProcessor):
    """Base of the processors of one framework (``PyTorchProcessor``, ...): ``estimator_cls`` is fixed by the
    subclass, the constructor takes the SDK's arguments of those processors."""

    estimator_cls: type

    def __init__(
        self,
        framework_version: str,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Union[int, PipelineVariable] = None,
        instance_type: Union[str, PipelineVariable] = None,
        py_version: str = "py3",
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        command: Optional[List[str]] = None,
        volume_size_in_gb: Union[int, PipelineVariable] = 30,
        volume_kms_key: Optional[Union[str, PipelineVariable]] = None,
        output_kms_key: Optional[Union[str, PipelineVariable]] = None,
        code_location: Optional[str] = None,
        max_runtime_in_seconds: Optional[Union[int, PipelineVariable]] = None,
        base_job_name: Optional[str] = None,
        sagemaker_session=None,
        env: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        tags=None,
        network_config: Optional[NetworkConfig] = None,
    ):
        """Runs a Python script (``code``, with its ``source_dir``) in the framework's environment.

        Unless ``image_uri`` is given, the image is the framework's training image of
        ``framework_version`` and ``py_version``. The arguments mean what they mean for
        :class:`FrameworkProcessor`.
        """
        super().__init__(
            estimator_cls=self.estimator_cls,
            framework_version=framework_version,
            role=role,
            instance_count=instance_count,
            instance_type=instance_type,
            py_version=py_version,
            image_uri=image_uri,
            command=command,
            volume_size_in_gb=volume_size_in_gb,
            volume_kms_key=volume_kms_key,
            output_kms_key=output_kms_key,
            code_location=code_location,
            max_runtime_in_seconds=max_runtime_in_seconds,
            base_job_name=base_job_name,
            sagemaker_session=sagemaker_session,
            env=env,
            tags=tags,
            network_config=network_config,
        )
