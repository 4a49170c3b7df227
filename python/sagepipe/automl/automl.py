"""AutoML and AutoMLInput (mirror of ``sagemaker.automl.automl``).

Under a ``PipelineSession``, ``AutoML.fit()`` returns the step arguments of an ``AutoMLStep``
(the SDK's ``CreateAutoMLJob`` request). Autopilot runs on SageMaker only: an AutoML step fails
before a local execution starts unless a handler is registered for the ``AutoML`` step type, and
``fit()`` outside a pipeline raises ``PipelineSessionRequiredError`` as every job class does.
"""

import logging
from typing import Any, Dict, List, Optional

from sagepipe import s3
from sagepipe._job_requests import put_present
from sagepipe.inputs import TrainingInput
from sagepipe.session import session_or_default
from sagepipe.utils import format_tags, name_from_base
from sagepipe.workflow.entities import PipelineVariable
from sagepipe.workflow.pipeline_context import runnable_by_pipeline

logger = logging.getLogger("sagemaker")


class AutoMLInput:
    """An input channel of an AutoML job."""

    def __init__(
        self,
        inputs,
        target_attribute_name,
        compression=None,
        channel_type=None,
        content_type=None,
        s3_data_type=None,
        sample_weight_attribute_name=None,
    ):
        """Initialize an AutoMLInput.

        Args:
            inputs (str, list[str], PipelineVariable): S3 location(s) of the data.
            target_attribute_name (str, PipelineVariable): The target attribute name.
            compression (str, PipelineVariable): The compression of the data (default: None).
            channel_type (str, PipelineVariable): ``training`` or ``validation``.
            content_type (str, PipelineVariable): The content type of the data.
            s3_data_type (str, PipelineVariable): ``ManifestFile`` or ``S3Prefix``.
            sample_weight_attribute_name (str, PipelineVariable): The sample weight column.
        """
        self.inputs = inputs
        self.target_attribute_name = target_attribute_name
        self.compression = compression
        self.channel_type = channel_type
        self.content_type = content_type
        self.s3_data_type = s3_data_type
        self.sample_weight_attribute_name = sample_weight_attribute_name

    def to_request_dict(self):
        """The ``InputDataConfig`` entries of this input (one per S3 location)."""
        if isinstance(self.inputs, (str, PipelineVariable)):
            self.inputs = [self.inputs]
        channels = []
        for entry in self.inputs:
            channel = {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": entry}},
                "TargetAttributeName": self.target_attribute_name,
            }
            put_present(
                channel,
                (
                    ("CompressionType", self.compression),
                    ("ChannelType", self.channel_type),
                    ("ContentType", self.content_type),
                ),
            )
            if self.s3_data_type is not None:
                channel["DataSource"]["S3DataSource"]["S3DataType"] = self.s3_data_type
            if self.sample_weight_attribute_name is not None:
                channel["SampleWeightAttributeName"] = self.sample_weight_attribute_name
            channels.append(channel)
        return channels


class AutoML:
    """An Autopilot job: finds the best model for a tabular dataset (on SageMaker)."""

    def __init__(
        self,
        role: Optional[str] = None,
        target_attribute_name: str = None,
        output_kms_key: Optional[str] = None,
        output_path: Optional[str] = None,
        base_job_name: Optional[str] = None,
        compression_type: Optional[str] = None,
        sagemaker_session=None,
        volume_kms_key: Optional[str] = None,
        encrypt_inter_container_traffic: Optional[bool] = None,
        vpc_config: Optional[Dict[str, List]] = None,
        problem_type: Optional[str] = None,
        max_candidates: Optional[int] = None,
        max_runtime_per_training_job_in_seconds: Optional[int] = None,
        total_job_runtime_in_seconds: Optional[int] = None,
        job_objective: Optional[Dict[str, str]] = None,
        generate_candidate_definitions_only: Optional[bool] = False,
        tags=None,
        content_type: Optional[str] = None,
        s3_data_type: Optional[str] = None,
        feature_specification_s3_uri: Optional[str] = None,
        validation_fraction: Optional[float] = None,
        mode: Optional[str] = None,
        auto_generate_endpoint_name: Optional[bool] = None,
        endpoint_name: Optional[str] = None,
        sample_weight_attribute_name: str = None,
    ):
        """Initialize an AutoML object (the arguments of the SDK's ``AutoML``).

        Raises:
            ValueError: No role, or only one of ``problem_type`` and ``job_objective``.
        """
        self.output_path = output_path
        self.base_job_name = base_job_name
        self.compression_type = compression_type
        self.problem_type = problem_type
        self.max_candidate = max_candidates
        self.max_runtime_per_training_job_in_seconds = max_runtime_per_training_job_in_seconds
        self.total_job_runtime_in_seconds = total_job_runtime_in_seconds
        self.target_attribute_name = target_attribute_name
        self.job_objective = job_objective
        self.generate_candidate_definitions_only = generate_candidate_definitions_only
        self.tags = format_tags(tags)
        self.content_type = content_type
        self.s3_data_type = s3_data_type
        self.feature_specification_s3_uri = feature_specification_s3_uri
        self.validation_fraction = validation_fraction
        self.mode = mode
        self.auto_generate_endpoint_name = auto_generate_endpoint_name
        self.endpoint_name = endpoint_name
        self.current_job_name = None
        sagemaker_session = session_or_default(sagemaker_session)
        self.sagemaker_session = sagemaker_session
        self.vpc_config = vpc_config
        self.volume_kms_key = volume_kms_key
        self.output_kms_key = output_kms_key
        self.role = role
        if not self.role:
            raise ValueError("An AWS IAM role is required to create an AutoML job.")
        # The service's default: traffic between containers is not encrypted unless asked.
        self.encrypt_inter_container_traffic = (
            False if encrypt_inter_container_traffic is None else encrypt_inter_container_traffic
        )
        self.sample_weight_attribute_name = sample_weight_attribute_name
        if not (problem_type and job_objective) and (problem_type or job_objective):
            raise ValueError(
                "One of problem type and objective metric provided. "
                "Either both of them should be provided or none of them should be provided."
            )

    @runnable_by_pipeline
    def fit(self, inputs=None, wait=True, logs=True, job_name=None):
        """Capture the ``CreateAutoMLJob`` request of an ``AutoMLStep`` (under a PipelineSession).

        Args:
            inputs (str or list[str] or AutoMLInput or list[AutoMLInput]): The data: S3 URI(s),
                a local path (stored in the store's S3 area first), or AutoMLInput channels.
            wait, logs: Accepted for compatibility (a pipeline step never waits here).
            job_name (str): The job name (default: from ``base_job_name`` or ``automl``).
        """
        if isinstance(inputs, str) and not inputs.startswith("s3://"):
            inputs = self.sagemaker_session.upload_data(inputs, key_prefix="auto-ml-input-data")
        self._prepare_for_auto_ml_job(job_name=job_name)
        AutoMLJob.start_new(self, inputs)

    def _prepare_for_auto_ml_job(self, job_name=None):
        """Name the job (at most 32 characters, as CreateAutoMLJob requires) and default the output."""
        if job_name is not None:
            self.current_job_name = job_name
        else:
            self.current_job_name = name_from_base(self.base_job_name or "automl", max_length=32)
        if self.output_path is None:
            self.output_path = s3.default_bucket_uri(self.sagemaker_session, with_end_slash=True)


class AutoMLJob:
    """The AutoML job request builder."""

    def __init__(self, sagemaker_session, job_name, inputs):
        self.sagemaker_session = sagemaker_session
        self.job_name = job_name
        self.inputs = inputs

    @classmethod
    def start_new(cls, auto_ml, inputs):
        """Build the request and hand it to the session (a PipelineSession captures it)."""
        request = cls._auto_ml_request(auto_ml, inputs)
        auto_ml.sagemaker_session._intercept_create_request(request, None, "auto_ml")
        return cls(auto_ml.sagemaker_session, auto_ml.current_job_name, inputs)

    @classmethod
    def _auto_ml_request(cls, auto_ml, inputs) -> dict:
        if isinstance(inputs, AutoMLInput):
            input_config = inputs.to_request_dict()
        elif isinstance(inputs, list) and inputs and all(isinstance(c, AutoMLInput) for c in inputs):
            input_config = [entry for channel in inputs for entry in channel.to_request_dict()]
        else:
            input_config = cls._format_inputs_to_input_config(inputs, auto_ml)
        output_config = {"S3OutputPath": auto_ml.output_path}
        put_present(output_config, (("KmsKeyId", auto_ml.output_kms_key),))
        completion: Dict[str, Any] = {}
        put_present(
            completion,
            (
                ("MaxCandidates", auto_ml.max_candidate),
                ("MaxRuntimePerTrainingJobInSeconds", auto_ml.max_runtime_per_training_job_in_seconds),
                ("MaxAutoMLJobRuntimeInSeconds", auto_ml.total_job_runtime_in_seconds),
            ),
        )
        job_config = {
            "CompletionCriteria": completion,
            "SecurityConfig": {"EnableInterContainerTrafficEncryption": auto_ml.encrypt_inter_container_traffic},
        }
        if auto_ml.volume_kms_key:
            job_config["SecurityConfig"]["VolumeKmsKeyId"] = auto_ml.volume_kms_key
        if auto_ml.vpc_config:
            job_config["SecurityConfig"]["VpcConfig"] = auto_ml.vpc_config
        if auto_ml.feature_specification_s3_uri:
            job_config["CandidateGenerationConfig"] = {
                "FeatureSpecificationS3Uri": auto_ml.feature_specification_s3_uri
            }
        if auto_ml.validation_fraction:
            job_config["DataSplitConfig"] = {"ValidationFraction": auto_ml.validation_fraction}
        if auto_ml.mode:
            job_config["Mode"] = auto_ml.mode
        request = {
            "AutoMLJobName": auto_ml.current_job_name,
            "InputDataConfig": input_config,
            "OutputDataConfig": output_config,
            "AutoMLJobConfig": job_config,
            "RoleArn": auto_ml.sagemaker_session.expand_role(auto_ml.role),
            "GenerateCandidateDefinitionsOnly": auto_ml.generate_candidate_definitions_only,
        }
        deploy_config = {}
        if auto_ml.auto_generate_endpoint_name is not None:
            deploy_config["AutoGenerateEndpointName"] = auto_ml.auto_generate_endpoint_name
        if not auto_ml.auto_generate_endpoint_name and auto_ml.endpoint_name is not None:
            deploy_config["EndpointName"] = auto_ml.endpoint_name
        if deploy_config:
            request["ModelDeployConfig"] = deploy_config
        put_present(
            request,
            (
                ("AutoMLJobObjective", auto_ml.job_objective),
                ("ProblemType", auto_ml.problem_type),
                ("Tags", auto_ml.tags),
            ),
        )
        return request

    @classmethod
    def _format_inputs_to_input_config(cls, inputs, auto_ml):
        """Channels for S3 URI inputs, with the AutoML object's defaults."""
        if inputs is None:
            return None
        if isinstance(inputs, str):
            inputs = [inputs]
        elif not isinstance(inputs, list):
            raise ValueError(
                f"Cannot format input {inputs}. Expecting a string or a list of strings or a list of AutoMLInputs."
            )
        channels = []
        for entry in inputs:
            if not isinstance(entry, str) or not entry.startswith(("s3://", "file://")):
                raise ValueError(
                    f'URI input {entry} must be a valid S3 or FILE URI: must start with "s3://" or "file://"'
                )
            channel = TrainingInput(
                entry, compression=auto_ml.compression_type, target_attribute_name=auto_ml.target_attribute_name
            ).config
            if auto_ml.content_type is not None:
                channel["ContentType"] = auto_ml.content_type
            if auto_ml.s3_data_type is not None:
                channel["DataSource"]["S3DataSource"]["S3DataType"] = auto_ml.s3_data_type
            if auto_ml.sample_weight_attribute_name is not None:
                channel["SampleWeightAttributeName"] = auto_ml.sample_weight_attribute_name
            if channel.get("TargetAttributeName") is None:
                raise ValueError("TargetAttributeName cannot be None.")
            channels.append(channel)
        return channels
