"""Classes for using Hugging Face with sagepipe (mirror of ``sagemaker.huggingface``)."""

from sagepipe.huggingface.processing import HuggingFaceProcessor  # noqa: F401

__all__ = ["HuggingFaceProcessor"]
