"""Classes for using Scikit-Learn with sagepipe (mirror of ``sagemaker.sklearn``)."""

from sagepipe.sklearn.estimator import SKLearn  # noqa: F401
from sagepipe.sklearn.model import SKLearnModel, SKLearnPredictor  # noqa: F401
from sagepipe.sklearn.processing import SKLearnProcessor  # noqa: F401

__all__ = ["SKLearn", "SKLearnModel", "SKLearnPredictor", "SKLearnProcessor"]
