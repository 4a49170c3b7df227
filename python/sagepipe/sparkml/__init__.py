"""The SparkML Serving model (mirror of ``sagemaker.sparkml``)."""

from sagepipe.sparkml.model import SparkMLModel, SparkMLPredictor  # noqa: F401

__all__ = ["SparkMLModel", "SparkMLPredictor"]
