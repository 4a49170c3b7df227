"""The Hugging Face processor (mirror of ``sagemaker.huggingface.processing``)."""

from typing import Dict, List, Optional, Union

from sagepipe.huggingface.estimator import HuggingFace
from sagepipe.network import NetworkConfig
from sagepipe.processing import FrameworkProcessor
from sagepipe.workflow.entities import PipelineVariable


class HuggingFaceProcessor(FrameworkProcessor):
    """Handles processing tasks for jobs using Hugging Face containers (a ``FrameworkProcessor``)."""

    estimator_cls = HuggingFace

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Union[int, PipelineVariable] = None,
        instance_type: Union[str, PipelineVariable] = None,
        transformers_version: Optional[str] = None,
        tensorflow_version: Optional[str] = None,
        pytorch_version: Optional[str] = None,
        py_version: str = "py36",
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
        """Runs a Python script (``code``, with its ``source_dir``) in a Hugging Face environment.

        Args:
            transformers_version (str): The Transformers version (the processor's
                ``framework_version``); required unless ``image_uri`` is given.
            tensorflow_version (str): The TensorFlow version (or give ``pytorch_version``).
            pytorch_version (str): The PyTorch version (or give ``tensorflow_version``).
            py_version (str): The Python version of the image (default ``py36``).
            Other arguments: see :class:`sagepipe.processing.FrameworkProcessor`.
        """
        self.pytorch_version = pytorch_version
        self.tensorflow_version = tensorflow_version
        super().__init__(
            estimator_cls=self.estimator_cls,
            framework_version=transformers_version,
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

    def _create_estimator(self, entry_point="", source_dir=None, dependencies=None, git_config=None):
        """A Hugging Face estimator: three version arguments instead of ``framework_version``."""
        return self.estimator_cls(
            transformers_version=self.framework_version,
            tensorflow_version=self.tensorflow_version,
            pytorch_version=self.pytorch_version,
            instance_count=self.instance_count,
            **self._code_packing_estimator_args(entry_point, source_dir, dependencies, git_config),
        )
