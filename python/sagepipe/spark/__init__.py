"""Spark processing (mirror of ``sagemaker.spark``)."""

from sagepipe.spark.processing import PySparkProcessor, SparkJarProcessor  # noqa: F401

__all__ = ["PySparkProcessor", "SparkJarProcessor"]
