"""Spark processors (mirror of ``sagemaker.spark.processing``).

``PySparkProcessor`` and ``SparkJarProcessor`` build the SDK's ``CreateProcessingJob`` request:
the SageMaker Spark container's ``smspark-submit`` entry point with ``--py-files``/``--jars``/
``--files`` options (S3 URIs as given, local files uploaded into one input channel each), the
EMR-style ``configuration`` staged as ``/opt/ml/processing/input/conf/configuration.json`` and the
Spark event logs as a ``Continuous`` output. sagepipe has no Spark container: a pipeline with such
a step fails before anything runs unless an ``smspark-submit`` program is on the PATH.
"""

import json
import logging
import os
import shutil
import tempfile
from copy import copy
from enum import Enum
from typing import Dict, List, Optional, Union
from urllib.parse import urlparse

from sagepipe import image_uris, s3
from sagepipe.processing import ProcessingInput, ProcessingOutput, RunArgs, ScriptProcessor
from sagepipe.session import session_or_default
from sagepipe.spark.defaults import SPARK_NAME
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.entities import PipelineVariable
from sagepipe.workflow.functions import Join
from sagepipe.workflow.pipeline_context import runnable_by_pipeline

logger = logging.getLogger(__name__)

_EMR_CONFIGURE_APPS_URL = "https://docs.aws.amazon.com/emr/latest/ReleaseGuide/emr-configure-apps.html"


class FileType(Enum):
    """The kinds of ``spark-submit`` dependencies."""

    JAR = 1
    PYTHON = 2
    FILE = 3


class _SparkProcessorBase(ScriptProcessor):
    """Handles processing jobs using Spark (the base of ``PySparkProcessor`` and ``SparkJarProcessor``)."""

    _default_command = "smspark-submit"
    _conf_container_base_path = "/opt/ml/processing/input/"
    _conf_container_input_name = "conf"
    _conf_file_name = "configuration.json"
    _submit_jars_input_channel_name = "jars"
    _submit_files_input_channel_name = "files"
    _submit_py_files_input_channel_name = "py-files"
    _submit_deps_error_message = (
        "Please specify a list of one or more S3 URIs, local file paths, and/or local directory paths"
    )
    _spark_event_log_default_local_path = "/opt/ml/processing/spark-events/"

    def __init__(
        self,
        role=None,
        instance_type=None,
        instance_count=None,
        framework_version=None,
        py_version=None,
        container_version=None,
        image_uri=None,
        volume_size_in_gb=30,
        volume_kms_key=None,
        output_kms_key=None,
        configuration_location: Optional[str] = None,
        dependency_location: Optional[str] = None,
        max_runtime_in_seconds=None,
        base_job_name=None,
        sagemaker_session=None,
        env=None,
        tags=None,
        network_config=None,
    ):
        """Initializes a Spark processor.

        Args:
            framework_version (str): The Spark version of the SageMaker Spark image (e.g. ``3.3``).
            py_version (str): The Python version of the image (give it with ``container_version``).
            container_version (str): The image's container version (with ``py_version``).
            configuration_location (str): The S3 prefix the ``configuration`` is uploaded to
                (default: the session's default bucket).
            dependency_location (str): The S3 prefix local ``submit_*`` files are uploaded to
                (default: the session's default bucket).
            Other arguments: see :class:`sagepipe.processing.ScriptProcessor`.
        """
        self.configuration_location = configuration_location
        self.dependency_location = dependency_location
        self.history_server = None
        self._spark_event_logs_s3_uri = None
        sagemaker_session = session_or_default(sagemaker_session)
        self.image_uri = self._retrieve_image_uri(
            image_uri,
            framework_version,
            py_version,
            container_version,
            sagemaker_session.boto_region_name,
            instance_type,
        )
        super().__init__(
            role=role,
            image_uri=self.image_uri,
            command=[self._default_command],
            instance_count=instance_count,
            instance_type=instance_type,
            volume_size_in_gb=volume_size_in_gb,
            volume_kms_key=volume_kms_key,
            output_kms_key=output_kms_key,
            max_runtime_in_seconds=max_runtime_in_seconds,
            base_job_name=base_job_name,
            sagemaker_session=sagemaker_session,
            env=env or {},
            tags=tags,
            network_config=network_config,
        )

    @runnable_by_pipeline
    def run(
        self,
        submit_app,
        inputs=None,
        outputs=None,
        arguments=None,
        wait=True,
        logs=True,
        job_name=None,
        experiment_config=None,
        kms_key=None,
    ):
        """Runs ``submit_app`` (a ``.py`` or ``.jar``, local or S3) with ``smspark-submit``.

        Raises:
            ValueError: ``submit_app`` is a pipeline variable.
        """
        self._current_job_name = self._generate_current_job_name(job_name=job_name)
        if is_pipeline_variable(submit_app):
            raise ValueError(
                "submit_app argument has to be a valid S3 URI or local file path rather than a pipeline variable"
            )
        return super().run(submit_app, inputs, outputs, arguments, wait, logs, job_name, experiment_config, kms_key)

    def _spark_channels(self, job_name, inputs, outputs, **spark_args):
        """Name the job, then return ``inputs``/``outputs`` extended with what the Spark arguments need."""
        self._current_job_name = self._generate_current_job_name(job_name=job_name)
        return self._extend_processing_args(inputs=inputs, outputs=outputs, **spark_args)

    def _spark_run_args(self, submit_app, inputs, outputs, arguments, job_name, **spark_args):
        """The ``get_run_args()`` of both Spark processors: ``RunArgs`` with the channels of their Spark arguments."""
        extended_inputs, extended_outputs = self._spark_channels(job_name, inputs, outputs, **spark_args)
        return RunArgs(code=submit_app, inputs=extended_inputs, outputs=extended_outputs, arguments=arguments)

    def _submit(
        self, submit_app, inputs, outputs, arguments, wait, logs, job_name, experiment_config, kms_key, **spark_args
    ):
        """The ``run()`` of both Spark processors: their Spark arguments become channels and options."""
        if not submit_app:
            raise ValueError("submit_app is required")
        extended_inputs, extended_outputs = self._spark_channels(job_name, inputs, outputs, **spark_args)
        return _SparkProcessorBase.run(
            self,
            submit_app=submit_app,
            inputs=extended_inputs,
            outputs=extended_outputs,
            arguments=arguments,
            wait=wait,
            logs=logs,
            job_name=self._current_job_name,
            experiment_config=experiment_config,
            kms_key=kms_key,
        )

    def start_history_server(self, spark_event_logs_s3_uri=None):
        """The Spark history server runs the Spark image in Docker, which sagepipe does not use.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError(
            "start_history_server() runs the SageMaker Spark image in Docker; sagepipe runs no containers. "
            "Point a Spark history server of your own at the event logs instead."
        )

    def terminate_history_server(self):
        """Nothing to terminate: sagepipe never starts a history server."""
        self.history_server = None

    def _retrieve_image_uri(self, image_uri, framework_version, py_version, container_version, region, instance_type):
        """``image_uri`` if given, else the SageMaker Spark processing image of the version."""
        if image_uri:
            return image_uri
        if (py_version is None) != (container_version is None):
            raise ValueError("Both or neither of py_version and container_version should be set")
        return image_uris.retrieve(
            SPARK_NAME,
            region,
            version=framework_version,
            instance_type=instance_type,
            py_version=py_version,
            container_version=f"v{container_version}" if container_version else None,
        )

    def _extend_processing_args(self, inputs, outputs, **kwargs):
        """Adds the event-log output and the configuration input; returns (inputs, outputs) or Nones."""
        extended_outputs = copy(outputs or [])
        spark_event_logs_s3_uri = kwargs.get("spark_event_logs_s3_uri")
        if spark_event_logs_s3_uri:
            SparkConfigUtils.validate_s3_uri(spark_event_logs_s3_uri)
            self._spark_event_logs_s3_uri = spark_event_logs_s3_uri
            self.command.extend(["--local-spark-event-logs-dir", self._spark_event_log_default_local_path])
            extended_outputs.append(
                ProcessingOutput(
                    source=self._spark_event_log_default_local_path,
                    destination=spark_event_logs_s3_uri,
                    s3_upload_mode="Continuous",
                )
            )
        extended_inputs = copy(inputs or [])
        configuration = kwargs.get("configuration")
        if configuration:
            SparkConfigUtils.validate_configuration(configuration)
            extended_inputs.append(self._stage_configuration(configuration))
        return extended_inputs or None, extended_outputs or None

    def _s3_prefix(self, location):
        """``location`` without a trailing slash, else ``s3://<default bucket>[/<prefix>]``."""
        if location:
            return location[:-1] if location.endswith("/") else location
        return s3.default_bucket_uri(self.sagemaker_session)

    def _stage_configuration(self, configuration):
        """Uploads the configuration as JSON; returns the ``conf`` input that brings it to the job."""
        from sagepipe.workflow.utilities import _pipeline_config

        prefix = self._s3_prefix(self.configuration_location)
        if _pipeline_config and _pipeline_config.config_hash:
            s3_uri = (
                f"{prefix}/{_pipeline_config.pipeline_name}/{_pipeline_config.step_name}/input/"
                f"{self._conf_container_input_name}/{_pipeline_config.config_hash}/{self._conf_file_name}"
            )
        else:
            s3_uri = f"{prefix}/{self._current_job_name}/input/{self._conf_container_input_name}/{self._conf_file_name}"
        s3.S3Uploader.upload_string_as_file_body(
            body=json.dumps(configuration), desired_s3_uri=s3_uri, sagemaker_session=self.sagemaker_session
        )
        return ProcessingInput(
            source=s3_uri,
            destination=f"{self._conf_container_base_path}{self._conf_container_input_name}",
            input_name=self._conf_container_input_name,
        )

    def _stage_submit_deps(self, submit_deps, input_channel_name):
        """Stages ``submit_deps``; returns (the input channel of the local ones or None, the option value).

        S3 URIs (and pipeline variables) go into the ``spark-submit`` option as given; local files
        and directories are uploaded together as one input channel, whose container path joins
        the option. With a pipeline variable among them the option is a ``Join``.
        """
        if not submit_deps:
            raise ValueError(f"submit_deps value may not be empty. {self._submit_deps_error_message}")
        if not input_channel_name:
            raise ValueError("input_channel_name value may not be empty.")
        remote = []
        has_pipeline_variable = False
        input_channel = None
        with tempfile.TemporaryDirectory() as staging:
            for dep_path in submit_deps:
                if is_pipeline_variable(dep_path):
                    remote.append(dep_path)
                    has_pipeline_variable = True
                    continue
                scheme = urlparse(dep_path).scheme
                if scheme in ("s3", "s3a"):
                    remote.append(dep_path)
                elif scheme in ("", "file"):
                    if os.path.isdir(dep_path):
                        shutil.copytree(dep_path, os.path.join(staging, os.path.basename(os.path.normpath(dep_path))))
                    elif os.path.isfile(dep_path):
                        shutil.copy(dep_path, staging)
                    else:
                        raise ValueError(
                            f"submit_deps path {dep_path} is not a valid local file or directory. "
                            f"{self._submit_deps_error_message}"
                        )
                else:
                    raise ValueError(
                        f"submit_deps path {dep_path} references unsupported filesystem scheme: {scheme} "
                        f"{self._submit_deps_error_message}"
                    )
            if os.listdir(staging):
                channel_uri = self._dependency_channel_uri(input_channel_name)
                s3.S3Uploader.upload(
                    local_path=staging, desired_s3_uri=channel_uri, sagemaker_session=self.sagemaker_session
                )
                input_channel = ProcessingInput(
                    source=channel_uri,
                    destination=f"{self._conf_container_base_path}{input_channel_name}",
                    input_name=input_channel_name,
                )
        values = remote + ([input_channel.destination] if input_channel else [])
        option = Join(on=",", values=values) if has_pipeline_variable else ",".join(values)
        return input_channel, option

    def _dependency_channel_uri(self, input_channel_name):
        """Where local ``submit_*`` files go: the pipeline's ``code/<hash>`` prefix, or the job's input."""
        from sagepipe.workflow.utilities import _pipeline_config

        prefix = self._s3_prefix(self.dependency_location)
        if _pipeline_config and _pipeline_config.code_hash:
            return f"{prefix}/{_pipeline_config.pipeline_name}/code/{_pipeline_config.code_hash}/{input_channel_name}"
        return f"{prefix}/{self._current_job_name}/input/{input_channel_name}"

    def _handle_script_dependencies(self, inputs, submit_files, file_type):
        """Stages one kind of dependency and adds its ``--<kind>`` option to the command."""
        if not submit_files:
            return inputs
        channel_name = {
            FileType.PYTHON: self._submit_py_files_input_channel_name,
            FileType.JAR: self._submit_jars_input_channel_name,
            FileType.FILE: self._submit_files_input_channel_name,
        }[file_type]
        files_input, files_option = self._stage_submit_deps(submit_files, channel_name)
        inputs = inputs or []
        if files_input:
            inputs.append(files_input)
        if files_option:
            self.command.extend([f"--{channel_name}", files_option])
        return inputs


class PySparkProcessor(_SparkProcessorBase):
    """Handles Amazon SageMaker processing tasks for jobs using PySpark."""

    def get_run_args(
        self,
        submit_app,
        submit_py_files=None,
        submit_jars=None,
        submit_files=None,
        inputs=None,
        outputs=None,
        arguments=None,
        job_name=None,
        configuration=None,
        spark_event_logs_s3_uri=None,
    ):
        """Returns a RunArgs object (deprecated in the SDK; use ``run()`` under a PipelineSession)."""
        return self._spark_run_args(
            submit_app,
            inputs,
            outputs,
            arguments,
            job_name,
            submit_py_files=submit_py_files,
            submit_jars=submit_jars,
            submit_files=submit_files,
            configuration=configuration,
            spark_event_logs_s3_uri=spark_event_logs_s3_uri,
        )

    @runnable_by_pipeline
    def run(
        self,
        submit_app: str,
        submit_py_files: Optional[List[Union[str, PipelineVariable]]] = None,
        submit_jars: Optional[List[Union[str, PipelineVariable]]] = None,
        submit_files: Optional[List[Union[str, PipelineVariable]]] = None,
        inputs: Optional[List[ProcessingInput]] = None,
        outputs: Optional[List[ProcessingOutput]] = None,
        arguments: Optional[List[Union[str, PipelineVariable]]] = None,
        wait: bool = True,
        logs: bool = True,
        job_name: Optional[str] = None,
        experiment_config: Optional[Dict[str, str]] = None,
        configuration: Optional[Union[List[Dict], Dict]] = None,
        spark_event_logs_s3_uri: Optional[Union[str, PipelineVariable]] = None,
        kms_key: Optional[str] = None,
    ):
        """Runs a PySpark application (under a ``PipelineSession``: returns ``ProcessingStep`` args).

        Args:
            submit_app (str): The ``.py`` file (local or S3) submitted as the application.
            submit_py_files (list[str or PipelineVariable]): ``.zip``/``.egg``/``.py`` files
                for the ``PYTHONPATH`` (``--py-files``).
            submit_jars (list[str or PipelineVariable]): Jars for the classpath (``--jars``).
            submit_files (list[str or PipelineVariable]): Files for the executors' working
                directory (``--files``).
            configuration (list[dict] or dict): EMR-style Hadoop/Spark/Hive configuration.
            spark_event_logs_s3_uri (str or PipelineVariable): Where the Spark event logs go.
            Other arguments: see :meth:`sagepipe.processing.ScriptProcessor.run`.
        """
        return self._submit(
            submit_app,
            inputs,
            outputs,
            arguments,
            wait,
            logs,
            job_name,
            experiment_config,
            kms_key,
            submit_py_files=submit_py_files,
            submit_jars=submit_jars,
            submit_files=submit_files,
            configuration=configuration,
            spark_event_logs_s3_uri=spark_event_logs_s3_uri,
        )

    def _extend_processing_args(self, inputs, outputs, **kwargs):
        """Resets the command, then adds ``--py-files``, ``--jars`` and ``--files`` in that order."""
        self.command = [self._default_command]
        extended_inputs = copy(inputs or [])
        extended_inputs = self._handle_script_dependencies(
            extended_inputs, kwargs.get("submit_py_files"), FileType.PYTHON
        )
        extended_inputs = self._handle_script_dependencies(extended_inputs, kwargs.get("submit_jars"), FileType.JAR)
        extended_inputs = self._handle_script_dependencies(extended_inputs, kwargs.get("submit_files"), FileType.FILE)
        return super()._extend_processing_args(extended_inputs, outputs, **kwargs)


class SparkJarProcessor(_SparkProcessorBase):
    """Handles Amazon SageMaker processing tasks for jobs using Spark with Java or Scala jars."""

    def get_run_args(
        self,
        submit_app,
        submit_class=None,
        submit_jars=None,
        submit_files=None,
        inputs=None,
        outputs=None,
        arguments=None,
        job_name=None,
        configuration=None,
        spark_event_logs_s3_uri=None,
    ):
        """Returns a RunArgs object (deprecated in the SDK; use ``run()`` under a PipelineSession)."""
        return self._spark_run_args(
            submit_app,
            inputs,
            outputs,
            arguments,
            job_name,
            submit_class=submit_class,
            submit_jars=submit_jars,
            submit_files=submit_files,
            configuration=configuration,
            spark_event_logs_s3_uri=spark_event_logs_s3_uri,
        )

    @runnable_by_pipeline
    def run(
        self,
        submit_app: str,
        submit_class: Union[str, PipelineVariable],
        submit_jars: Optional[List[Union[str, PipelineVariable]]] = None,
        submit_files: Optional[List[Union[str, PipelineVariable]]] = None,
        inputs: Optional[List[ProcessingInput]] = None,
        outputs: Optional[List[ProcessingOutput]] = None,
        arguments: Optional[List[Union[str, PipelineVariable]]] = None,
        wait: bool = True,
        logs: bool = True,
        job_name: Optional[str] = None,
        experiment_config: Optional[Dict[str, str]] = None,
        configuration: Optional[Union[List[Dict], Dict]] = None,
        spark_event_logs_s3_uri: Optional[Union[str, PipelineVariable]] = None,
        kms_key: Optional[str] = None,
    ):
        """Runs a Spark jar application (under a ``PipelineSession``: returns ``ProcessingStep`` args).

        Args:
            submit_app (str): The ``.jar`` (local or S3) submitted as the application.
            submit_class (str or PipelineVariable): The application's main class (required).
            submit_jars, submit_files, configuration, spark_event_logs_s3_uri: see
                :meth:`PySparkProcessor.run`.
            Other arguments: see :meth:`sagepipe.processing.ScriptProcessor.run`.
        """
        return self._submit(
            submit_app,
            inputs,
            outputs,
            arguments,
            wait,
            logs,
            job_name,
            experiment_config,
            kms_key,
            submit_class=submit_class,
            submit_jars=submit_jars,
            submit_files=submit_files,
            configuration=configuration,
            spark_event_logs_s3_uri=spark_event_logs_s3_uri,
        )

    def _extend_processing_args(self, inputs, outputs, **kwargs):
        """Resets the command to ``smspark-submit --class <class>``, then adds ``--jars`` and ``--files``."""
        if not kwargs.get("submit_class"):
            raise ValueError("submit_class is required")
        self.command = [self._default_command, "--class", kwargs["submit_class"]]
        extended_inputs = copy(inputs or [])
        extended_inputs = self._handle_script_dependencies(extended_inputs, kwargs.get("submit_jars"), FileType.JAR)
        extended_inputs = self._handle_script_dependencies(extended_inputs, kwargs.get("submit_files"), FileType.FILE)
        return super()._extend_processing_args(extended_inputs, outputs, **kwargs)


class SparkConfigUtils:
    """Checks of Spark processing arguments."""

    _valid_configuration_keys = ["Classification", "Properties", "Configurations"]
    _valid_configuration_classifications = [
        "core-site",
        "hadoop-env",
        "hadoop-log4j",
        "hive-env",
        "hive-log4j",
        "hive-exec-log4j",
        "hive-site",
        "spark-defaults",
        "spark-env",
        "spark-log4j",
        "spark-hive-site",
        "spark-metrics",
        "yarn-env",
        "yarn-site",
        "export",
    ]

    @staticmethod
    def validate_configuration(configuration: Union[Dict, List[Dict]]):
        """Checks that ``configuration`` has the shape of an EMR application configuration.

        Raises:
            ValueError: A missing ``Classification``/``Properties``, an unknown key or classification.
        """
        if isinstance(configuration, list):
            for item in configuration:
                SparkConfigUtils.validate_configuration(item)
            return
        if not isinstance(configuration, dict):
            return
        if "Classification" not in configuration or "Properties" not in configuration:
            raise ValueError(
                f"Missing one or more required keys in configuration dictionary {configuration} "
                f"Please see {_EMR_CONFIGURE_APPS_URL} for more information"
            )
        for key in configuration:
            if key not in SparkConfigUtils._valid_configuration_keys:
                raise ValueError(
                    f"Invalid key: {key}. Must be one of {SparkConfigUtils._valid_configuration_keys}. "
                    f"Please see {_EMR_CONFIGURE_APPS_URL} for more information."
                )
        if configuration["Classification"] not in SparkConfigUtils._valid_configuration_classifications:
            raise ValueError(
                f"Invalid classification: {configuration['Classification']}. Must be one of "
                f"{SparkConfigUtils._valid_configuration_classifications}"
            )

    @staticmethod
    def validate_s3_uri(spark_output_s3_path):
        """Checks that a (non-pipeline-variable) URI uses the ``s3`` scheme.

        Raises:
            ValueError: Another scheme.
        """
        if is_pipeline_variable(spark_output_s3_path):
            return
        if urlparse(spark_output_s3_path).scheme != "s3":
            raise ValueError(
                f"Invalid s3 path: {spark_output_s3_path}. Please enter something like s3://bucket-name/folder-name"
            )
