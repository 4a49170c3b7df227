"""Classes for using Hugging Face with sagepipe (mirror of ``sagemaker.huggingface``)."""

from sagepipe.huggingface.estimator import HuggingFace  # noqa: F401
from sagepipe.huggingface.model import HuggingFaceModel, HuggingFacePredictor  # noqa: F401
from sagepipe.huggingface.processing import HuggingFaceProcessor  # noqa: F401

__all__ = ["HuggingFace", "HuggingFaceModel", "HuggingFacePredictor", "HuggingFaceProcessor"]
