"""The Hugging Face script-mode estimator (mirror of ``sagemaker.huggingface.estimator``).

Locally the training script runs with the user's own Python, ``transformers`` and base framework.
"""

from typing import Dict, Optional, Union

from sagepipe.estimator import EstimatorBase, Framework
from sagepipe.huggingface.model import HuggingFaceModel
from sagepipe.pytorch.estimator import PyTorch, torch_distribution_configuration
from sagepipe.workflow.entities import PipelineVariable


class HuggingFace(Framework):
    """Handle training of Hugging Face scripts (script mode)."""

    _framework_name = "huggingface"
    LAUNCH_PYTORCH_DDP_ENV_NAME = PyTorch.LAUNCH_PYTORCH_DDP_ENV_NAME
    LAUNCH_TORCH_DISTRIBUTED_ENV_NAME = PyTorch.LAUNCH_TORCH_DISTRIBUTED_ENV_NAME
    INSTANCE_TYPE_ENV_NAME = PyTorch.INSTANCE_TYPE_ENV_NAME

    def __init__(
        self,
        py_version: str,
        entry_point: Union[str, PipelineVariable],
        transformers_version: Optional[str] = None,
        tensorflow_version: Optional[str] = None,
        pytorch_version: Optional[str] = None,
        source_dir: Optional[Union[str, PipelineVariable]] = None,
        hyperparameters: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        image_uri: Optional[Union[str, PipelineVariable]] = None,
        distribution: Optional[Dict] = None,
        compiler_config=None,
        **kwargs,
    ):
        """A Hugging Face estimator.

        Args:
            py_version (str): Python version of the image (e.g. ``py39``).
            entry_point (str or PipelineVariable): The training script.
            transformers_version (str): Transformers version of the image.
            tensorflow_version, pytorch_version (str): The base framework (exactly one, unless
                ``image_uri`` is given), in the same form (full or short) as ``transformers_version``.
            source_dir, hyperparameters, image_uri: As for :class:`sagepipe.estimator.Framework`.
            distribution (dict): ``pytorchddp``, ``torch_distributed``, ``smdistributed`` or
                ``mpi`` settings (hyperparameters; one local host).
            compiler_config: Not supported locally.
            **kwargs: Additional arguments of :class:`sagepipe.estimator.Framework`.
        """
        if compiler_config is not None:
            raise NotImplementedError("SageMaker Training Compiler (compiler_config=) only runs on AWS images.")
        self.framework_version = transformers_version
        self.py_version = py_version
        self.tensorflow_version = tensorflow_version
        self.pytorch_version = pytorch_version
        self._validate_args(image_uri=image_uri)
        kwargs.setdefault("enable_sagemaker_metrics", True)
        super().__init__(entry_point, source_dir, hyperparameters, image_uri=image_uri, **kwargs)
        self.base_framework_name = "tensorflow" if tensorflow_version is not None else "pytorch"
        self.base_framework_version = tensorflow_version if tensorflow_version is not None else pytorch_version
        if distribution is not None and "pytorchxla" in distribution:
            raise ValueError(
                "Distributed training through PyTorch XLA is currently only supported when SageMaker Training "
                "Compiler is enabled."
            )
        self.distribution = distribution or {}
        self.compiler_config = None

    def _validate_args(self, image_uri):
        if image_uri is not None:
            return
        if self.framework_version is None:
            raise ValueError(
                "transformers_version, and image_uri are both None. Specify either transformers_version or image_uri"
            )
        if self.tensorflow_version is not None and self.pytorch_version is not None:
            raise ValueError(
                "tensorflow_version and pytorch_version are both not None. "
                "Specify only tensorflow_version or pytorch_version."
            )
        if self.tensorflow_version is None and self.pytorch_version is None:
            raise ValueError(
                "tensorflow_version and pytorch_version are both None. "
                "Specify either tensorflow_version or pytorch_version."
            )
        base_version = self.tensorflow_version if self.tensorflow_version is not None else self.pytorch_version
        if len(base_version.split(".")) != len(self.framework_version.split(".")):
            raise ValueError(
                "Please use either full version or shortened version for both transformers_version, "
                "tensorflow_version and pytorch_version."
            )

    def hyperparameters(self):
        """The hyperparameters of the job, with the distribution settings (JSON-encoded)."""
        hyperparameters = super().hyperparameters()
        additional = torch_distribution_configuration(self, self.distribution, with_smdistributed=False)
        hyperparameters.update(EstimatorBase._json_encode_hyperparameters(additional))
        return hyperparameters

    def create_model(
        self,
        model_server_workers=None,
        role=None,
        vpc_config_override="VPC_CONFIG_DEFAULT",
        entry_point=None,
        source_dir=None,
        dependencies=None,
        **kwargs,
    ) -> HuggingFaceModel:
        """A ``HuggingFaceModel`` serving this estimator's model artifacts (with ``entry_point`` if given)."""
        return self._create_framework_model(
            HuggingFaceModel,
            role,
            vpc_config_override,
            entry_point,
            source_dir,
            dependencies,
            transformers_version=self.framework_version,
            tensorflow_version=self.tensorflow_version,
            pytorch_version=self.pytorch_version,
            py_version=self.py_version,
            model_server_workers=model_server_workers,
            **kwargs,
        )
