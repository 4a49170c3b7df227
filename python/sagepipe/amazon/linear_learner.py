"""Linear models for classification and regression (mirror of ``sagemaker.amazon.linear_learner``)."""

from typing import Optional, Union

from sagepipe.amazon.amazon_estimator import AmazonAlgorithmEstimatorBase, _AlgorithmModel, _train_record_set
from sagepipe.amazon.hyperparameter import Hyperparameter as hp  # noqa: N813
from sagepipe.amazon.validation import ge, gt, isin, le, lt
from sagepipe.workflow.entities import PipelineVariable

__all__ = ["LinearLearner", "LinearLearnerModel"]

_FLOAT_GT_0 = "A float greater-than 0"
_FLOAT_GE_0 = "A float greater-than or equal to 0"


class LinearLearner(AmazonAlgorithmEstimatorBase):
    """Binary, multiclass classifiers and regressors (image ``linear-learner``)."""

    repo_name: str = "linear-learner"
    repo_version: str = "1"

    DEFAULT_MINI_BATCH_SIZE: int = 1000

    binary_classifier_model_selection_criteria: hp = hp(
        "binary_classifier_model_selection_criteria",
        isin(
            "accuracy",
            "f1",
            "f_beta",
            "precision_at_target_recall",
            "recall_at_target_precision",
            "cross_entropy_loss",
            "loss_function",
        ),
        data_type=str,
    )
    target_recall: hp = hp("target_recall", (gt(0), lt(1)), "A float in (0,1)", float)
    target_precision: hp = hp("target_precision", (gt(0), lt(1)), "A float in (0,1)", float)
    positive_example_weight_mult: hp = hp(
        "positive_example_weight_mult", (), "A float greater than 0 or 'auto' or 'balanced'", str
    )
    epochs: hp = hp("epochs", gt(0), "An integer greater-than 0", int)
    predictor_type: hp = hp(
        "predictor_type",
        isin("binary_classifier", "regressor", "multiclass_classifier"),
        'One of "binary_classifier" or "multiclass_classifier" or "regressor"',
        str,
    )
    use_bias: hp = hp("use_bias", (), "Either True or False", bool)
    num_models: hp = hp("num_models", gt(0), "An integer greater-than 0", int)
    num_calibration_samples: hp = hp("num_calibration_samples", gt(0), "An integer greater-than 0", int)
    init_method: hp = hp("init_method", isin("uniform", "normal"), 'One of "uniform" or "normal"', str)
    init_scale: hp = hp("init_scale", gt(0), _FLOAT_GT_0, float)
    init_sigma: hp = hp("init_sigma", gt(0), _FLOAT_GT_0, float)
    init_bias: hp = hp("init_bias", (), "A number", float)
    optimizer: hp = hp(
        "optimizer", isin("sgd", "adam", "rmsprop", "auto"), 'One of "sgd", "adam", "rmsprop" or "auto', str
    )
    loss: hp = hp(
        "loss",
        isin(
            "logistic",
            "squared_loss",
            "absolute_loss",
            "hinge_loss",
            "eps_insensitive_squared_loss",
            "eps_insensitive_absolute_loss",
            "quantile_loss",
            "huber_loss",
            "softmax_loss",
            "auto",
        ),
        '"logistic", "squared_loss", "absolute_loss", "hinge_loss", "eps_insensitive_squared_loss",'
        ' "eps_insensitive_absolute_loss", "quantile_loss", "huber_loss", "softmax_loss" or "auto"',
        str,
    )
    wd: hp = hp("wd", ge(0), _FLOAT_GE_0, float)
    l1: hp = hp("l1", ge(0), _FLOAT_GE_0, float)
    momentum: hp = hp("momentum", (ge(0), lt(1)), "A float in [0,1)", float)
    learning_rate: hp = hp("learning_rate", gt(0), _FLOAT_GT_0, float)
    beta_1: hp = hp("beta_1", (ge(0), lt(1)), "A float in [0,1)", float)
    beta_2: hp = hp("beta_2", (ge(0), lt(1)), "A float in [0,1)", float)
    bias_lr_mult: hp = hp("bias_lr_mult", gt(0), _FLOAT_GT_0, float)
    bias_wd_mult: hp = hp("bias_wd_mult", ge(0), _FLOAT_GE_0, float)
    use_lr_scheduler: hp = hp("use_lr_scheduler", (), "A boolean", bool)
    lr_scheduler_step: hp = hp("lr_scheduler_step", gt(0), "An integer greater-than 0", int)
    lr_scheduler_factor: hp = hp("lr_scheduler_factor", (gt(0), lt(1)), "A float in (0,1)", float)
    lr_scheduler_minimum_lr: hp = hp("lr_scheduler_minimum_lr", gt(0), _FLOAT_GT_0, float)
    normalize_data: hp = hp("normalize_data", (), "A boolean", bool)
    normalize_label: hp = hp("normalize_label", (), "A boolean", bool)
    unbias_data: hp = hp("unbias_data", (), "A boolean", bool)
    unbias_label: hp = hp("unbias_label", (), "A boolean", bool)
    num_point_for_scaler: hp = hp("num_point_for_scaler", gt(0), "An integer greater-than 0", int)
    margin: hp = hp("margin", ge(0), _FLOAT_GE_0, float)
    quantile: hp = hp("quantile", (gt(0), lt(1)), "A float in (0,1)", float)
    loss_insensitivity: hp = hp("loss_insensitivity", gt(0), _FLOAT_GT_0, float)
    huber_delta: hp = hp("huber_delta", ge(0), _FLOAT_GE_0, float)
    early_stopping_patience: hp = hp("early_stopping_patience", gt(0), "An integer greater-than 0", int)
    early_stopping_tolerance: hp = hp("early_stopping_tolerance", gt(0), _FLOAT_GT_0, float)
    num_classes: hp = hp("num_classes", (gt(0), le(1000000)), "An integer in [1,1000000]", int)
    accuracy_top_k: hp = hp("accuracy_top_k", (gt(0), le(1000000)), "An integer in [1,1000000]", int)
    f_beta: hp = hp("f_beta", gt(0), _FLOAT_GT_0, float)
    balance_multiclass_weights: hp = hp("balance_multiclass_weights", (), "A boolean", bool)

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Optional[Union[int, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = None,
        predictor_type: Optional[str] = None,
        binary_classifier_model_selection_criteria: Optional[str] = None,
        target_recall: Optional[float] = None,
        target_precision: Optional[float] = None,
        positive_example_weight_mult: Optional[float] = None,
        epochs: Optional[int] = None,
        use_bias: Optional[bool] = None,
        num_models: Optional[int] = None,
        num_calibration_samples: Optional[int] = None,
        init_method: Optional[str] = None,
        init_scale: Optional[float] = None,
        init_sigma: Optional[float] = None,
        init_bias: Optional[float] = None,
        optimizer: Optional[str] = None,
        loss: Optional[str] = None,
        wd: Optional[float] = None,
        l1: Optional[float] = None,
        momentum: Optional[float] = None,
        learning_rate: Optional[float] = None,
        beta_1: Optional[float] = None,
        beta_2: Optional[float] = None,
        bias_lr_mult: Optional[float] = None,
        bias_wd_mult: Optional[float] = None,
        use_lr_scheduler: Optional[bool] = None,
        lr_scheduler_step: Optional[int] = None,
        lr_scheduler_factor: Optional[float] = None,
        lr_scheduler_minimum_lr: Optional[float] = None,
        normalize_data: Optional[bool] = None,
        normalize_label: Optional[bool] = None,
        unbias_data: Optional[bool] = None,
        unbias_label: Optional[bool] = None,
        num_point_for_scaler: Optional[int] = None,
        margin: Optional[float] = None,
        quantile: Optional[float] = None,
        loss_insensitivity: Optional[float] = None,
        huber_delta: Optional[float] = None,
        early_stopping_patience: Optional[int] = None,
        early_stopping_tolerance: Optional[float] = None,
        num_classes: Optional[int] = None,
        accuracy_top_k: Optional[int] = None,
        f_beta: Optional[float] = None,
        balance_multiclass_weights: Optional[bool] = None,
        **kwargs,
    ):
        """A Linear Learner estimator; each hyperparameter is the algorithm's of the same name.

        Args:
            role, instance_count, instance_type: See :class:`AmazonAlgorithmEstimatorBase`.
            predictor_type (str): ``binary_classifier``, ``multiclass_classifier`` or ``regressor``.
            num_classes (int): Classes of a ``multiclass_classifier`` (required then, > 2).
            The other arguments: the Linear Learner hyperparameters of the same names.
            **kwargs: See :class:`AmazonAlgorithmEstimatorBase`.

        Raises:
            ValueError: A ``multiclass_classifier`` without ``num_classes`` > 2.
        """
        super().__init__(role, instance_count, instance_type, **kwargs)
        self._set_hyperparameters_from(locals())
        if self.predictor_type == "multiclass_classifier" and (num_classes is None or int(num_classes) < 3):
            raise ValueError(
                "For predictor_type 'multiclass_classifier', 'num_classes' should be set to a value greater than 2."
            )

    def create_model(self, vpc_config_override="VPC_CONFIG_DEFAULT", **kwargs):
        """A :class:`LinearLearnerModel` of this estimator's model data."""
        return self._algorithm_model(LinearLearnerModel, vpc_config_override, kwargs)

    def _prepare_for_training(self, records, mini_batch_size=None, job_name=None):
        num_records = _train_record_set(records).num_records
        mini_batch_size = mini_batch_size or self._get_default_mini_batch_size(num_records)
        super()._prepare_for_training(records, mini_batch_size=mini_batch_size, job_name=job_name)


class LinearLearnerModel(_AlgorithmModel):
    """A Linear Learner model (image ``linear-learner``)."""

    _algorithm = LinearLearner
