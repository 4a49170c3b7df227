"""SageMaker Autopilot (mirror of ``sagemaker.automl``): the AutoML job of an ``AutoMLStep``."""

from sagepipe.automl.automl import AutoML, AutoMLInput, AutoMLJob  # noqa: F401
