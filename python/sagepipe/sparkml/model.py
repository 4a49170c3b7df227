"""The SparkML Serving model (mirror of ``sagemaker.sparkml.model``).

Its container (MLeap) serves a serialized Spark ML pipeline; it builds the SDK's definition, but
sagepipe cannot serve it locally (a transform step with it fails before running, naming the step).
"""

import logging
from typing import Optional, Union

from sagepipe import image_uris
from sagepipe.model import Model
from sagepipe.predictor import Predictor
from sagepipe.workflow.entities import PipelineVariable

logger = logging.getLogger(__name__)

framework_name = "sparkml-serving"


class SparkMLPredictor(Predictor):
    """A predictor of a SparkML Serving endpoint (endpoints are not deployed by sagepipe)."""


class SparkMLModel(Model):
    """A Spark ML pipeline (MLeap bundle) served by the SparkML Serving image."""

    def __init__(
        self,
        model_data: Union[str, PipelineVariable],
        role: Optional[str] = None,
        spark_version: str = "3.3",
        sagemaker_session=None,
        **kwargs,
    ):
        """Initialize a ``SparkMLModel``.

        Args:
            model_data (str or PipelineVariable): The S3 location of the MLeap bundle.
            role (str): An IAM role ARN (recorded).
            spark_version (str): The SparkML Serving image version (default ``3.3``).
            sagemaker_session: The session (its region picks the image).
            **kwargs: Other arguments of :class:`sagepipe.model.Model` (``predictor_cls`` and
                ``image_uri`` are ignored, as in the SDK).
        """
        if sagemaker_session is None:
            from sagepipe.session import Session

            region_name = Session().boto_region_name
        else:
            region_name = sagemaker_session.boto_region_name
        image_uri = image_uris.retrieve(framework_name, region_name, version=spark_version)
        for unused, value in (("predictor_cls", SparkMLPredictor.__name__), ("image_uri", image_uri)):
            if kwargs.pop(unused, None) is not None:
                logger.warning("Ignoring the %s argument of SparkMLModel: it is always %s.", unused, value)
        super().__init__(
            image_uri, model_data, role, predictor_cls=SparkMLPredictor, sagemaker_session=sagemaker_session, **kwargs
        )
