"""k-nearest neighbors (mirror of ``sagemaker.amazon.knn``)."""

from typing import Optional, Union

from sagepipe.amazon.amazon_estimator import AmazonAlgorithmEstimatorBase, _AlgorithmModel
from sagepipe.amazon.hyperparameter import Hyperparameter as hp  # noqa: N813
from sagepipe.amazon.validation import ge, isin
from sagepipe.workflow.entities import PipelineVariable

__all__ = ["KNN", "KNNModel"]


class KNN(AmazonAlgorithmEstimatorBase):
    """Index-based k-nearest-neighbors classification or regression (image ``knn``)."""

    repo_name: str = "knn"
    repo_version: str = "1"

    k: hp = hp("k", ge(1), "An integer greater than 0", int)
    sample_size: hp = hp("sample_size", ge(1), "An integer greater than 0", int)
    predictor_type: hp = hp(
        "predictor_type", isin("classifier", "regressor"), 'One of "classifier" or "regressor"', str
    )
    dimension_reduction_target: hp = hp(
        "dimension_reduction_target", ge(1), "An integer greater than 0 and less than feature_dim", int
    )
    dimension_reduction_type: hp = hp("dimension_reduction_type", isin("sign", "fjlt"), 'One of "sign" or "fjlt"', str)
    index_metric: hp = hp(
        "index_metric", isin("COSINE", "INNER_PRODUCT", "L2"), 'One of "COSINE", "INNER_PRODUCT", "L2"', str
    )
    index_type: hp = hp(
        "index_type",
        isin("faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ"),
        'One of "faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ"',
        str,
    )
    faiss_index_ivf_nlists: hp = hp("faiss_index_ivf_nlists", (), '"auto" or an integer greater than 0', str)
    faiss_index_pq_m: hp = hp("faiss_index_pq_m", ge(1), "An integer greater than 0", int)

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Optional[Union[int, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = None,
        k: Optional[int] = None,
        sample_size: Optional[int] = None,
        predictor_type: Optional[str] = None,
        dimension_reduction_type: Optional[str] = None,
        dimension_reduction_target: Optional[int] = None,
        index_type: Optional[str] = None,
        index_metric: Optional[str] = None,
        faiss_index_ivf_nlists: Optional[str] = None,
        faiss_index_pq_m: Optional[int] = None,
        **kwargs,
    ):
        """A k-NN estimator; each hyperparameter is the algorithm's of the same name.

        Args:
            role, instance_count, instance_type: See :class:`AmazonAlgorithmEstimatorBase`.
            k (int): The number of neighbors.
            sample_size (int): Points sampled into the index.
            predictor_type (str): ``classifier`` or ``regressor``.
            dimension_reduction_type (str): ``sign`` or ``fjlt`` (needs ``dimension_reduction_target``).
            The other arguments: the k-NN hyperparameters of the same names.
            **kwargs: See :class:`AmazonAlgorithmEstimatorBase`.

        Raises:
            ValueError: ``dimension_reduction_type`` without ``dimension_reduction_target``.
        """
        super().__init__(role, instance_count, instance_type, **kwargs)
        self._set_hyperparameters_from(locals())
        if dimension_reduction_type and not dimension_reduction_target:
            raise ValueError('"dimension_reduction_target" is required when "dimension_reduction_type" is set.')

    def create_model(self, vpc_config_override="VPC_CONFIG_DEFAULT", **kwargs):
        """A :class:`KNNModel` of this estimator's model data."""
        return self._algorithm_model(KNNModel, vpc_config_override, kwargs)


class KNNModel(_AlgorithmModel):
    """A k-NN model (image ``knn``)."""

    _algorithm = KNN
