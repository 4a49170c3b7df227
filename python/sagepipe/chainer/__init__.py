"""Classes for using Chainer with sagepipe (mirror of ``sagemaker.chainer``)."""

from sagepipe.chainer.estimator import Chainer  # noqa: F401
from sagepipe.chainer.model import ChainerModel, ChainerPredictor  # noqa: F401

__all__ = ["Chainer", "ChainerModel", "ChainerPredictor"]
