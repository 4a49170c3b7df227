"""Principal component analysis (mirror of ``sagemaker.amazon.pca``)."""

from typing import Optional, Union

from sagepipe.amazon.amazon_estimator import AmazonAlgorithmEstimatorBase, _AlgorithmModel, _train_record_set
from sagepipe.amazon.hyperparameter import Hyperparameter as hp  # noqa: N813
from sagepipe.amazon.validation import gt, isin
from sagepipe.workflow.entities import PipelineVariable

__all__ = ["PCA", "PCAModel"]


class PCA(AmazonAlgorithmEstimatorBase):
    """Reduces data to its principal components (image ``pca``)."""

    repo_name: str = "pca"
    repo_version: str = "1"

    DEFAULT_MINI_BATCH_SIZE: int = 500

    num_components: hp = hp("num_components", gt(0), "Value must be an integer greater than zero", int)
    algorithm_mode: hp = hp(
        "algorithm_mode", isin("regular", "randomized"), 'Value must be one of "regular" and "randomized"', str
    )
    subtract_mean: hp = hp(name="subtract_mean", validation_message="Value must be a boolean", data_type=bool)
    extra_components: hp = hp(
        name="extra_components",
        validation_message="Value must be an integer greater than or equal to 0, or -1.",
        data_type=int,
    )

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Optional[Union[int, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = None,
        num_components: Optional[int] = None,
        algorithm_mode: Optional[str] = None,
        subtract_mean: Optional[bool] = None,
        extra_components: Optional[int] = None,
        **kwargs,
    ):
        """A PCA estimator.

        Args:
            role, instance_count, instance_type: See :class:`AmazonAlgorithmEstimatorBase`.
            num_components (int): The number of principal components.
            algorithm_mode (str): ``regular`` or ``randomized``.
            subtract_mean (bool): Whether to center the data.
            extra_components (int): Extra components of the randomized mode (-1: the default).
            **kwargs: See :class:`AmazonAlgorithmEstimatorBase`.
        """
        super().__init__(role, instance_count, instance_type, **kwargs)
        self._set_hyperparameters_from(locals())

    def create_model(self, vpc_config_override="VPC_CONFIG_DEFAULT", **kwargs):
        """A :class:`PCAModel` of this estimator's model data."""
        return self._algorithm_model(PCAModel, vpc_config_override, kwargs)

    def _prepare_for_training(self, records, mini_batch_size=None, job_name=None):
        num_records = _train_record_set(records).num_records
        mini_batch_size = mini_batch_size or self._get_default_mini_batch_size(num_records)
        super()._prepare_for_training(records, mini_batch_size=mini_batch_size, job_name=job_name)


class PCAModel(_AlgorithmModel):
    """A PCA model (image ``pca``)."""

    _algorithm = PCA
