"""Neural Topic Model (mirror of ``sagemaker.amazon.ntm``)."""

from typing import List, Optional, Union

from sagepipe.amazon.amazon_estimator import AmazonAlgorithmEstimatorBase, _AlgorithmModel
from sagepipe.amazon.hyperparameter import Hyperparameter as hp  # noqa: N813
from sagepipe.amazon.validation import ge, isin, le
from sagepipe.workflow.entities import PipelineVariable

__all__ = ["NTM", "NTMModel"]


class NTM(AmazonAlgorithmEstimatorBase):
    """Topic modelling with a neural network (image ``ntm``)."""

    repo_name: str = "ntm"
    repo_version: str = "1"

    num_topics: hp = hp("num_topics", (ge(2), le(1000)), "An integer in [2, 1000]", int)
    encoder_layers: hp = hp(
        name="encoder_layers", validation_message="A comma separated list of positive integers", data_type=list
    )
    epochs: hp = hp("epochs", (ge(1), le(100)), "An integer in [1, 100]", int)
    encoder_layers_activation: hp = hp(
        "encoder_layers_activation", isin("sigmoid", "tanh", "relu"), 'One of "sigmoid", "tanh" or "relu"', str
    )
    optimizer: hp = hp(
        "optimizer",
        isin("adagrad", "adam", "rmsprop", "sgd", "adadelta"),
        'One of "adagrad", "adam", "rmsprop", "sgd" and "adadelta"',
        str,
    )
    tolerance: hp = hp("tolerance", (ge(1e-6), le(0.1)), "A float in [1e-6, 0.1]", float)
    num_patience_epochs: hp = hp("num_patience_epochs", (ge(1), le(10)), "An integer in [1, 10]", int)
    batch_norm: hp = hp(name="batch_norm", validation_message="Value must be a boolean", data_type=bool)
    rescale_gradient: hp = hp("rescale_gradient", (ge(1e-3), le(1.0)), "A float in [1e-3, 1.0]", float)
    clip_gradient: hp = hp("clip_gradient", ge(1e-3), "A float greater equal to 1e-3", float)
    weight_decay: hp = hp("weight_decay", (ge(0.0), le(1.0)), "A float in [0.0, 1.0]", float)
    learning_rate: hp = hp("learning_rate", (ge(1e-6), le(1.0)), "A float in [1e-6, 1.0]", float)

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Optional[Union[int, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = None,
        num_topics: Optional[int] = None,
        encoder_layers: Optional[List] = None,
        epochs: Optional[int] = None,
        encoder_layers_activation: Optional[str] = None,
        optimizer: Optional[str] = None,
        tolerance: Optional[float] = None,
        num_patience_epochs: Optional[int] = None,
        batch_norm: Optional[bool] = None,
        rescale_gradient: Optional[float] = None,
        clip_gradient: Optional[float] = None,
        weight_decay: Optional[float] = None,
        learning_rate: Optional[float] = None,
        **kwargs,
    ):
        """An NTM estimator; each hyperparameter is the algorithm's of the same name.

        Args:
            role, instance_count, instance_type: See :class:`AmazonAlgorithmEstimatorBase`.
            num_topics (int): The number of topics, in [2, 1000].
            The other arguments: the NTM hyperparameters of the same names.
            **kwargs: See :class:`AmazonAlgorithmEstimatorBase`.
        """
        super().__init__(role, instance_count, instance_type, **kwargs)
        self._set_hyperparameters_from(locals())

    def create_model(self, vpc_config_override="VPC_CONFIG_DEFAULT", **kwargs):
        """An :class:`NTMModel` of this estimator's model data."""
        return self._algorithm_model(NTMModel, vpc_config_override, kwargs)

    def _prepare_for_training(self, records, mini_batch_size, job_name=None):
        if mini_batch_size is not None and (mini_batch_size < 1 or mini_batch_size > 10000):
            raise ValueError("mini_batch_size must be in [1, 10000]")
        super()._prepare_for_training(records, mini_batch_size=mini_batch_size, job_name=job_name)


class NTMModel(_AlgorithmModel):
    """An NTM model (image ``ntm``)."""

    _algorithm = NTM
