"""IP Insights (mirror of ``sagemaker.amazon.ipinsights``)."""

from typing import Optional, Union

from sagepipe.amazon.amazon_estimator import AmazonAlgorithmEstimatorBase, _AlgorithmModel
from sagepipe.amazon.hyperparameter import Hyperparameter as hp  # noqa: N813
from sagepipe.amazon.validation import ge, le
from sagepipe.workflow.entities import PipelineVariable

__all__ = ["IPInsights", "IPInsightsModel"]


class IPInsights(AmazonAlgorithmEstimatorBase):
    """Learns usage patterns of IPv4 addresses by entity (image ``ipinsights``)."""

    repo_name: str = "ipinsights"
    repo_version: str = "1"
    MINI_BATCH_SIZE: int = 10000

    num_entity_vectors: hp = hp("num_entity_vectors", (ge(1), le(250000000)), "An integer in [1, 250000000]", int)
    vector_dim: hp = hp("vector_dim", (ge(4), le(4096)), "An integer in [4, 4096]", int)
    batch_metrics_publish_interval: hp = hp("batch_metrics_publish_interval", ge(1), "An integer greater than 0", int)
    epochs: hp = hp("epochs", ge(1), "An integer greater than 0", int)
    learning_rate: hp = hp("learning_rate", (ge(1e-6), le(10.0)), "A float in [1e-6, 10.0]", float)
    num_ip_encoder_layers: hp = hp("num_ip_encoder_layers", (ge(0), le(100)), "An integer in [0, 100]", int)
    random_negative_sampling_rate: hp = hp(
        "random_negative_sampling_rate", (ge(0), le(500)), "An integer in [0, 500]", int
    )
    shuffled_negative_sampling_rate: hp = hp(
        "shuffled_negative_sampling_rate", (ge(0), le(500)), "An integer in [0, 500]", int
    )
    weight_decay: hp = hp("weight_decay", (ge(0.0), le(10.0)), "A float in [0.0, 10.0]", float)

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Optional[Union[int, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = None,
        num_entity_vectors: Optional[int] = None,
        vector_dim: Optional[int] = None,
        batch_metrics_publish_interval: Optional[int] = None,
        epochs: Optional[int] = None,
        learning_rate: Optional[float] = None,
        num_ip_encoder_layers: Optional[int] = None,
        random_negative_sampling_rate: Optional[int] = None,
        shuffled_negative_sampling_rate: Optional[int] = None,
        weight_decay: Optional[float] = None,
        **kwargs,
    ):
        """An IP Insights estimator; each hyperparameter is the algorithm's of the same name.

        Args:
            role, instance_count, instance_type: See :class:`AmazonAlgorithmEstimatorBase`.
            num_entity_vectors (int): Entity embeddings, in [1, 250000000].
            vector_dim (int): Embedding size, in [4, 4096].
            The other arguments: the IP Insights hyperparameters of the same names.
            **kwargs: See :class:`AmazonAlgorithmEstimatorBase`.
        """
        super().__init__(role, instance_count, instance_type, **kwargs)
        self._set_hyperparameters_from(locals())

    def create_model(self, vpc_config_override="VPC_CONFIG_DEFAULT", **kwargs):
        """An :class:`IPInsightsModel` of this estimator's model data."""
        return self._algorithm_model(IPInsightsModel, vpc_config_override, kwargs)

    def _prepare_for_training(self, records, mini_batch_size=None, job_name=None):
        if mini_batch_size is not None and (mini_batch_size < 1 or mini_batch_size > 500000):
            raise ValueError("mini_batch_size must be in [1, 500000]")
        super()._prepare_for_training(records, mini_batch_size=mini_batch_size, job_name=job_name)


class IPInsightsModel(_AlgorithmModel):
    """An IP Insights model (image ``ipinsights``)."""

    _algorithm = IPInsights
