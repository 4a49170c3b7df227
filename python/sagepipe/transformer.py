"""Batch transform jobs (mirror of ``sagemaker.transformer``).

``transform()`` under a ``PipelineSession`` returns step arguments for a ``TransformStep``; without
an ``output_path`` the output goes to the SDK's default
``Join("/", ["s3:/", bucket, pipeline, Execution.PipelineExecutionId, step])``. Outside a pipeline
session it raises: sagepipe runs jobs only as pipeline steps.
"""

from typing import Dict, Optional, Union

from sagepipe import s3
from sagepipe._job_requests import put_present
from sagepipe.session import session_or_default
from sagepipe.utils import name_from_base
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.entities import PipelineVariable
from sagepipe.workflow.pipeline_context import runnable_by_pipeline

__all__ = ["Transformer"]


class Transformer:
    """A class for handling creating and interacting with Amazon SageMaker transform jobs."""

    JOB_CLASS_NAME = "transform-job"

    def __init__(
        self,
        model_name: Union[str, PipelineVariable],
        instance_count: Union[int, PipelineVariable],
        instance_type: Union[str, PipelineVariable],
        strategy: Optional[Union[str, PipelineVariable]] = None,
        assemble_with: Optional[Union[str, PipelineVariable]] = None,
        output_path: Optional[Union[str, PipelineVariable]] = None,
        output_kms_key: Optional[Union[str, PipelineVariable]] = None,
        accept: Optional[Union[str, PipelineVariable]] = None,
        max_concurrent_transforms: Optional[Union[int, PipelineVariable]] = None,
        max_payload: Optional[Union[int, PipelineVariable]] = None,
        tags=None,
        env: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        base_transform_job_name: Optional[str] = None,
        sagemaker_session=None,
        volume_kms_key: Optional[Union[str, PipelineVariable]] = None,
    ):
        """Initialize a ``Transformer``.

        Args:
            model_name (str or PipelineVariable): Name of the SageMaker model being used for the
                transform job (typically ``model_step.properties.ModelName``).
            instance_count (int or PipelineVariable): Number of EC2 instances (recorded).
            instance_type (str or PipelineVariable): Type of EC2 instance (recorded).
            strategy (str): ``MultiRecord`` or ``SingleRecord``.
            assemble_with (str): How the output is assembled (``Line`` or ``None``).
            output_path (str or PipelineVariable): S3 location for the results (default: the
                pipeline's per-execution Join).
            output_kms_key (str): Recorded.
            accept (str): The accept header passed by the client to the inference endpoint.
            max_concurrent_transforms (int): Maximum number of concurrent HTTP requests.
            max_payload (int): Maximum size of a request payload in MB.
            tags (list[dict]): Recorded.
            env (dict): Environment variables of the transform container.
            base_transform_job_name (str): Prefix for the transform job name.
            sagemaker_session (sagepipe.session.Session): The session (a ``PipelineSession``
                to build pipeline steps).
            volume_kms_key (str): Recorded.
        """
        self.model_name = model_name
        self.strategy = strategy
        self.output_path = output_path
        self.accept = accept
        self.assemble_with = assemble_with
        self.instance_count = instance_count
        self.instance_type = instance_type
        self.max_concurrent_transforms = max_concurrent_transforms
        self.max_payload = max_payload
        self.tags = tags
        self.base_transform_job_name = base_transform_job_name
        self._current_job_name = None
        self.latest_transform_job = None
        self._reset_output_path = False
        sagemaker_session = session_or_default(sagemaker_session)
        self.sagemaker_session = sagemaker_session
        # What the caller left out comes from the SageMaker config here, when the transformer is
        # made (as the SDK), so both TransformStep forms carry the defaults.
        from sagepipe import config

        self.volume_kms_key = config.resolve_value_from_config(
            volume_kms_key, config.TRANSFORM_JOB_VOLUME_KMS_KEY_ID_PATH, None, sagemaker_session
        )
        self.output_kms_key = config.resolve_value_from_config(
            output_kms_key, config.TRANSFORM_OUTPUT_KMS_KEY_ID_PATH, None, sagemaker_session
        )
        self.env = config.resolve_value_from_config(env, config.TRANSFORM_JOB_ENVIRONMENT_PATH, None, sagemaker_session)

    @runnable_by_pipeline
    def transform(
        self,
        data: Union[str, PipelineVariable],
        data_type: Union[str, PipelineVariable] = "S3Prefix",
        content_type: Optional[Union[str, PipelineVariable]] = None,
        compression_type: Optional[Union[str, PipelineVariable]] = None,
        split_type: Optional[Union[str, PipelineVariable]] = None,
        job_name: Optional[str] = None,
        input_filter: Optional[Union[str, PipelineVariable]] = None,
        output_filter: Optional[Union[str, PipelineVariable]] = None,
        join_source: Optional[Union[str, PipelineVariable]] = None,
        experiment_config: Optional[Dict[str, str]] = None,
        model_client_config: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        batch_data_capture_config=None,
        wait: bool = True,
        logs: bool = True,
    ):
        """Start a new transform job (under a ``PipelineSession``: return ``TransformStep`` args).

        Args:
            data (str or PipelineVariable): Input data location in S3 (``file://`` with a
                LocalPipelineSession).
            data_type (str): ``S3Prefix`` (default) or ``ManifestFile``.
            content_type (str): MIME type of the input data.
            compression_type (str): ``Gzip`` or ``None``.
            split_type (str): ``None``, ``Line``, ``RecordIO`` or ``TFRecord``.
            job_name (str): Job name (popped from the step definition).
            input_filter, output_filter (str): JSONPath filters of input and output.
            join_source (str): ``Input`` joins the input to the output.
            experiment_config (dict[str, str]): Experiment management configuration.
            model_client_config (dict): Invocation timeout and retries.
            batch_data_capture_config (BatchDataCaptureConfig): Data capture configuration.
            wait, logs (bool): Forced to False under a pipeline session.

        Raises:
            ValueError: ``data`` is not an S3 URI (outside local mode).
        """
        from sagepipe.workflow.utilities import _pipeline_config

        if not self.sagemaker_session.local_mode and not is_pipeline_variable(data) and not data.startswith("s3://"):
            raise ValueError(f"Invalid S3 URI: {data}")
        if job_name is not None:
            self._current_job_name = job_name
        else:
            base_name = self.base_transform_job_name
            if base_name is None:
                base_name = self.JOB_CLASS_NAME if is_pipeline_variable(self.model_name) else self.model_name
            self._current_job_name = name_from_base(base_name)
        if self.output_path is None or self._reset_output_path is True:
            session = self.sagemaker_session
            if _pipeline_config:
                self.output_path = s3.pipeline_execution_uri(
                    session, _pipeline_config.pipeline_name, _pipeline_config.step_name
                )
            else:
                self.output_path = s3.default_bucket_uri(session, self._current_job_name)
            self._reset_output_path = True
        self.latest_transform_job = _TransformJob.start_new(
            self,
            data,
            data_type,
            content_type,
            compression_type,
            split_type,
            input_filter,
            output_filter,
            join_source,
            experiment_config,
            model_client_config,
            batch_data_capture_config,
        )


class _TransformJob:
    """The request-building half of the SDK's ``_TransformJob``."""

    def __init__(self, sagemaker_session, job_name):
        self.sagemaker_session = sagemaker_session
        self.job_name = job_name

    @classmethod
    def start_new(cls, transformer, *transform_inputs):
        """Build the ``CreateTransformJob`` request and hand it to the session.

        ``transform_inputs`` are those of :meth:`_get_transform_args` after the transformer.
        """
        transform_args = cls._get_transform_args(transformer, *transform_inputs)
        transformer.sagemaker_session.transform(**transform_args)
        return cls(transformer.sagemaker_session, transformer._current_job_name)

    @classmethod
    def _get_transform_args(
        cls,
        transformer,
        data,
        data_type,
        content_type,
        compression_type,
        split_type,
        input_filter,
        output_filter,
        join_source,
        experiment_config,
        model_client_config,
        batch_data_capture_config,
    ) -> dict:
        """The keyword arguments of ``Session.transform`` for this transformer and input."""
        input_config = {"DataSource": {"S3DataSource": {"S3DataType": data_type, "S3Uri": data}}}
        put_present(
            input_config,
            (("ContentType", content_type), ("CompressionType", compression_type), ("SplitType", split_type)),
        )
        output_config = {"S3OutputPath": transformer.output_path}
        put_present(
            output_config,
            (
                ("KmsKeyId", transformer.output_kms_key),
                ("AssembleWith", transformer.assemble_with),
                ("Accept", transformer.accept),
            ),
        )
        resource_config = {"InstanceCount": transformer.instance_count, "InstanceType": transformer.instance_type}
        put_present(resource_config, (("VolumeKmsKeyId", transformer.volume_kms_key),))
        data_processing = {}
        put_present(
            data_processing,
            (("InputFilter", input_filter), ("OutputFilter", output_filter), ("JoinSource", join_source)),
        )
        return dict(
            job_name=transformer._current_job_name,
            model_name=transformer.model_name,
            strategy=transformer.strategy,
            max_concurrent_transforms=transformer.max_concurrent_transforms,
            max_payload=transformer.max_payload,
            input_config=input_config,
            output_config=output_config,
            resource_config=resource_config,
            experiment_config=experiment_config,
            env=transformer.env,
            tags=transformer.tags,
            data_processing=data_processing or None,
            model_client_config=model_client_config,
            batch_data_capture_config=batch_data_capture_config,
        )
