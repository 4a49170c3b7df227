"""K-means clustering (mirror of ``sagemaker.amazon.kmeans``)."""

from typing import List, Optional, Union

from sagepipe.amazon.amazon_estimator import AmazonAlgorithmEstimatorBase, _AlgorithmModel
from sagepipe.amazon.hyperparameter import Hyperparameter as hp  # noqa: N813
from sagepipe.amazon.validation import ge, gt, isin, le
from sagepipe.workflow.entities import PipelineVariable

__all__ = ["KMeans", "KMeansModel"]


class KMeans(AmazonAlgorithmEstimatorBase):
    """Finds ``k`` clusters in unlabeled data (image ``kmeans``).

    Hyperparameter attributes carry the algorithm's names in the request, e.g.
    ``max_iterations`` is ``local_lloyd_max_iter``; ``force_dense`` is always sent.
    """

    repo_name: str = "kmeans"
    repo_version: str = "1"

    k: hp = hp("k", gt(1), "An integer greater-than 1", int)
    init_method: hp = hp("init_method", isin("random", "kmeans++"), 'One of "random", "kmeans++"', str)
    max_iterations: hp = hp("local_lloyd_max_iter", gt(0), "An integer greater-than 0", int)
    tol: hp = hp("local_lloyd_tol", (ge(0), le(1)), "An float in [0, 1]", float)
    num_trials: hp = hp("local_lloyd_num_trials", gt(0), "An integer greater-than 0", int)
    local_init_method: hp = hp(
        "local_lloyd_init_method", isin("random", "kmeans++"), 'One of "random", "kmeans++"', str
    )
    half_life_time_size: hp = hp("half_life_time_size", ge(0), "An integer greater-than-or-equal-to 0", int)
    epochs: hp = hp("epochs", gt(0), "An integer greater-than 0", int)
    center_factor: hp = hp("extra_center_factor", gt(0), "An integer greater-than 0", int)
    eval_metrics: hp = hp(
        name="eval_metrics", validation_message='A comma separated list of "msd" or "ssd"', data_type=list
    )

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Optional[Union[int, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = None,
        k: Optional[int] = None,
        init_method: Optional[str] = None,
        max_iterations: Optional[int] = None,
        tol: Optional[float] = None,
        num_trials: Optional[int] = None,
        local_init_method: Optional[str] = None,
        half_life_time_size: Optional[int] = None,
        epochs: Optional[int] = None,
        center_factor: Optional[int] = None,
        eval_metrics: Optional[List[Union[str, PipelineVariable]]] = None,
        **kwargs,
    ):
        """A k-means estimator; hyperparameters as documented for the SageMaker k-means algorithm.

        Args:
            role, instance_count, instance_type: See :class:`AmazonAlgorithmEstimatorBase`.
            k (int): The number of clusters.
            init_method (str): ``random`` or ``kmeans++``.
            max_iterations (int): Lloyd iterations of the final local k-means.
            tol (float): Tolerance of the local k-means, in [0, 1].
            num_trials (int): Runs of the local k-means (the best is kept).
            local_init_method (str): ``random`` or ``kmeans++`` for the local k-means.
            half_life_time_size (int): Points after which a point's weight halves (0: no decay).
            epochs (int): Passes over the training data.
            center_factor (int): Extra centers (``k * center_factor``) reduced to ``k`` at the end.
            eval_metrics (list[str]): ``msd`` and/or ``ssd``.
            **kwargs: See :class:`AmazonAlgorithmEstimatorBase`.
        """
        super().__init__(role, instance_count, instance_type, **kwargs)
        self._set_hyperparameters_from(locals())

    def create_model(self, vpc_config_override="VPC_CONFIG_DEFAULT", **kwargs):
        """A :class:`KMeansModel` of this estimator's model data."""
        return self._algorithm_model(KMeansModel, vpc_config_override, kwargs)

    def _prepare_for_training(self, records, mini_batch_size=5000, job_name=None):
        super()._prepare_for_training(records, mini_batch_size=mini_batch_size, job_name=job_name)

    def hyperparameters(self):
        """The hyperparameters, with ``force_dense`` (k-means reads Records densely)."""
        return {"force_dense": "True", **super().hyperparameters()}


class KMeansModel(_AlgorithmModel):
    """A k-means model (image ``kmeans``)."""

    _algorithm = KMeans
