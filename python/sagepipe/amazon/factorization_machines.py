"""Factorization machines (mirror of ``sagemaker.amazon.factorization_machines``)."""

from typing import Optional, Union

from sagepipe.amazon.amazon_estimator import AmazonAlgorithmEstimatorBase, _AlgorithmModel
from sagepipe.amazon.hyperparameter import Hyperparameter as hp  # noqa: N813
from sagepipe.amazon.validation import ge, gt, isin
from sagepipe.workflow.entities import PipelineVariable

__all__ = ["FactorizationMachines", "FactorizationMachinesModel"]

_NON_NEGATIVE = "A non-negative float"
_FLOAT = "A float value"
_INIT_METHODS = 'Value "normal", "uniform" or "constant"'


def _init_method(name):
    return hp(name, isin("normal", "uniform", "constant"), _INIT_METHODS, str)


class FactorizationMachines(AmazonAlgorithmEstimatorBase):
    """Classification and regression on sparse, high-dimensional data (image ``factorization-machines``)."""

    repo_name: str = "factorization-machines"
    repo_version: str = "1"

    num_factors: hp = hp("num_factors", gt(0), "An integer greater than zero", int)
    predictor_type: hp = hp(
        "predictor_type", isin("binary_classifier", "regressor"), 'Value "binary_classifier" or "regressor"', str
    )
    epochs: hp = hp("epochs", gt(0), "An integer greater than 0", int)
    clip_gradient: hp = hp("clip_gradient", (), _FLOAT, float)
    eps: hp = hp("eps", (), _FLOAT, float)
    rescale_grad: hp = hp("rescale_grad", (), _FLOAT, float)
    bias_lr: hp = hp("bias_lr", ge(0), _NON_NEGATIVE, float)
    linear_lr: hp = hp("linear_lr", ge(0), _NON_NEGATIVE, float)
    factors_lr: hp = hp("factors_lr", ge(0), _NON_NEGATIVE, float)
    bias_wd: hp = hp("bias_wd", ge(0), _NON_NEGATIVE, float)
    linear_wd: hp = hp("linear_wd", ge(0), _NON_NEGATIVE, float)
    factors_wd: hp = hp("factors_wd", ge(0), _NON_NEGATIVE, float)
    bias_init_method: hp = _init_method("bias_init_method")
    bias_init_scale: hp = hp("bias_init_scale", ge(0), _NON_NEGATIVE, float)
    bias_init_sigma: hp = hp("bias_init_sigma", ge(0), _NON_NEGATIVE, float)
    bias_init_value: hp = hp("bias_init_value", (), _FLOAT, float)
    linear_init_method: hp = _init_method("linear_init_method")
    linear_init_scale: hp = hp("linear_init_scale", ge(0), _NON_NEGATIVE, float)
    linear_init_sigma: hp = hp("linear_init_sigma", ge(0), _NON_NEGATIVE, float)
    linear_init_value: hp = hp("linear_init_value", (), _FLOAT, float)
    factors_init_method: hp = _init_method("factors_init_method")
    factors_init_scale: hp = hp("factors_init_scale", ge(0), _NON_NEGATIVE, float)
    factors_init_sigma: hp = hp("factors_init_sigma", ge(0), _NON_NEGATIVE, float)
    factors_init_value: hp = hp("factors_init_value", (), _FLOAT, float)

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Optional[Union[int, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = None,
        num_factors: Optional[int] = None,
        predictor_type: Optional[str] = None,
        epochs: Optional[int] = None,
        clip_gradient: Optional[float] = None,
        eps: Optional[float] = None,
        rescale_grad: Optional[float] = None,
        bias_lr: Optional[float] = None,
        linear_lr: Optional[float] = None,
        factors_lr: Optional[float] = None,
        bias_wd: Optional[float] = None,
        linear_wd: Optional[float] = None,
        factors_wd: Optional[float] = None,
        bias_init_method: Optional[str] = None,
        bias_init_scale: Optional[float] = None,
        bias_init_sigma: Optional[float] = None,
        bias_init_value: Optional[float] = None,
        linear_init_method: Optional[str] = None,
        linear_init_scale: Optional[float] = None,
        linear_init_sigma: Optional[float] = None,
        linear_init_value: Optional[float] = None,
        factors_init_method: Optional[str] = None,
        factors_init_scale: Optional[float] = None,
        factors_init_sigma: Optional[float] = None,
        factors_init_value: Optional[float] = None,
        **kwargs,
    ):
        """A Factorization Machines estimator; each hyperparameter is the algorithm's of the same name.

        Args:
            role, instance_count, instance_type: See :class:`AmazonAlgorithmEstimatorBase`.
            num_factors (int): Dimension of the factorization.
            predictor_type (str): ``binary_classifier`` or ``regressor``.
            The other arguments: the Factorization Machines hyperparameters of the same names.
            **kwargs: See :class:`AmazonAlgorithmEstimatorBase`.
        """
        super().__init__(role, instance_count, instance_type, **kwargs)
        self._set_hyperparameters_from(locals())

    def create_model(self, vpc_config_override="VPC_CONFIG_DEFAULT", **kwargs):
        """A :class:`FactorizationMachinesModel` of this estimator's model data."""
        return self._algorithm_model(FactorizationMachinesModel, vpc_config_override, kwargs)


class FactorizationMachinesModel(_AlgorithmModel):
    """A Factorization Machines model (image ``factorization-machines``)."""

    _algorithm = FactorizationMachines
