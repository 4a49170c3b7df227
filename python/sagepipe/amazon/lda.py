"""Latent Dirichlet allocation (mirror of ``sagemaker.amazon.lda``)."""

import logging
from typing import Optional, Union

from sagepipe.amazon.amazon_estimator import AmazonAlgorithmEstimatorBase, _AlgorithmModel
from sagepipe.amazon.hyperparameter import Hyperparameter as hp  # noqa: N813
from sagepipe.amazon.validation import gt
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.entities import PipelineVariable

logger = logging.getLogger(__name__)

__all__ = ["LDA", "LDAModel"]


class LDA(AmazonAlgorithmEstimatorBase):
    """Topic modelling of documents (image ``lda``); trains on a single instance."""

    repo_name: str = "lda"
    repo_version: str = "1"

    num_topics: hp = hp("num_topics", gt(0), "An integer greater than zero", int)
    alpha0: hp = hp("alpha0", gt(0), "A positive float", float)
    max_restarts: hp = hp("max_restarts", gt(0), "An integer greater than zero", int)
    max_iterations: hp = hp("max_iterations", gt(0), "An integer greater than zero", int)
    tol: hp = hp("tol", gt(0), "A positive float", float)

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = None,
        num_topics: Optional[int] = None,
        alpha0: Optional[float] = None,
        max_restarts: Optional[int] = None,
        max_iterations: Optional[int] = None,
        tol: Optional[float] = None,
        **kwargs,
    ):
        """An LDA estimator (``instance_count`` is always 1; another value is replaced, with a warning).

        Args:
            role, instance_type: See :class:`AmazonAlgorithmEstimatorBase`.
            num_topics (int): The number of topics.
            alpha0 (float): The initial topic-prevalence prior.
            max_restarts (int): Restarts of the spectral decomposition.
            max_iterations (int): Iterations of the ALS phase.
            tol (float): Tolerance of the ALS phase.
            **kwargs: See :class:`AmazonAlgorithmEstimatorBase`.
        """
        instance_count = kwargs.pop("instance_count", 1)
        if is_pipeline_variable(instance_count) or instance_count != 1:
            logger.warning("LDA only supports single instance training. Defaulting to 1 %s.", instance_type)
        super().__init__(role, 1, instance_type, **kwargs)
        self._set_hyperparameters_from(locals())

    def create_model(self, vpc_config_override="VPC_CONFIG_DEFAULT", **kwargs):
        """An :class:`LDAModel` of this estimator's model data."""
        return self._algorithm_model(LDAModel, vpc_config_override, kwargs)

    def _prepare_for_training(self, records, mini_batch_size, job_name=None):  # mini_batch_size required
        if mini_batch_size is None:
            raise ValueError("mini_batch_size must be set")
        super()._prepare_for_training(records, mini_batch_size=mini_batch_size, job_name=job_name)


class LDAModel(_AlgorithmModel):
    """An LDA model (image ``lda``)."""

    _algorithm = LDA
