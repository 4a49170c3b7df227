"""Random Cut Forest anomaly detection (mirror of ``sagemaker.amazon.randomcutforest``)."""

from typing import List, Optional, Union

from sagepipe.amazon.amazon_estimator import AmazonAlgorithmEstimatorBase, _AlgorithmModel
from sagepipe.amazon.hyperparameter import Hyperparameter as hp  # noqa: N813
from sagepipe.amazon.validation import ge, le
from sagepipe.workflow.entities import PipelineVariable

__all__ = ["RandomCutForest", "RandomCutForestModel"]


class RandomCutForest(AmazonAlgorithmEstimatorBase):
    """Scores how anomalous each data point is (image ``randomcutforest``); mini-batch size fixed at 1000."""

    repo_name: str = "randomcutforest"
    repo_version: str = "1"
    MINI_BATCH_SIZE: int = 1000

    eval_metrics: hp = hp(
        name="eval_metrics",
        validation_message='A comma separated list of "accuracy" or "precision_recall_fscore"',
        data_type=list,
    )
    num_trees: hp = hp("num_trees", (ge(50), le(1000)), "An integer in [50, 1000]", int)
    num_samples_per_tree: hp = hp("num_samples_per_tree", (ge(1), le(2048)), "An integer in [1, 2048]", int)
    feature_dim: hp = hp("feature_dim", (ge(1), le(10000)), "An integer in [1, 10000]", int)

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Optional[Union[int, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = None,
        num_samples_per_tree: Optional[int] = None,
        num_trees: Optional[int] = None,
        eval_metrics: Optional[List] = None,
        **kwargs,
    ):
        """A Random Cut Forest estimator.

        Args:
            role, instance_count, instance_type: See :class:`AmazonAlgorithmEstimatorBase`.
            num_samples_per_tree (int): Samples per tree, in [1, 2048].
            num_trees (int): Trees in the forest, in [50, 1000].
            eval_metrics (list[str]): ``accuracy`` and/or ``precision_recall_fscore``.
            **kwargs: See :class:`AmazonAlgorithmEstimatorBase`.
        """
        super().__init__(role, instance_count, instance_type, **kwargs)
        self._set_hyperparameters_from(locals())

    def create_model(self, vpc_config_override="VPC_CONFIG_DEFAULT", **kwargs):
        """A :class:`RandomCutForestModel` of this estimator's model data."""
        return self._algorithm_model(RandomCutForestModel, vpc_config_override, kwargs)

    def _prepare_for_training(self, records, mini_batch_size=None, job_name=None):
        if mini_batch_size is None:
            mini_batch_size = self.MINI_BATCH_SIZE
        elif mini_batch_size != self.MINI_BATCH_SIZE:
            raise ValueError(f"Random Cut Forest uses a fixed mini_batch_size of {self.MINI_BATCH_SIZE}")
        super()._prepare_for_training(records, mini_batch_size=mini_batch_size, job_name=job_name)


class RandomCutForestModel(_AlgorithmModel):
    """A Random Cut Forest model (image ``randomcutforest``)."""

    _algorithm = RandomCutForest
