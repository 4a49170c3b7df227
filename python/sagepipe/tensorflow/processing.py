"""The TensorFlow processor (mirror of ``sagemaker.tensorflow.processing``)."""

from typing import Dict, List, Optional, Union

from sagepipe.network import NetworkConfig
from sagepipe.processing import FrameworkProcessor
from sagepipe.tensorflow.estimator import TensorFlow
from sagepipe.workflow.entities import PipelineVariable


class TensorFlowProcessor(FrameworkProcessor):
    """Handles processing tasks for jobs using TensorFlow containers (a ``FrameworkProcessor``)."""

    estimator_cls = TensorFlow

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
        """Runs a Python script (``code``, with its ``source_dir``) in the TensorFlow environment.

        Unless ``image_uri`` is given, the image is the TensorFlow training image of
        ``framework_version`` and ``py_version``. The arguments mean what they mean for
        :class:`sagepipe.processing.FrameworkProcessor`.
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
