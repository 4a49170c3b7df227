"""Object2Vec embeddings (mirror of ``sagemaker.amazon.object2vec``)."""

from typing import Optional, Union

from sagepipe.amazon.amazon_estimator import AmazonAlgorithmEstimatorBase, _AlgorithmModel
from sagepipe.amazon.hyperparameter import Hyperparameter as hp  # noqa: N813
from sagepipe.amazon.validation import ge, isin, le
from sagepipe.workflow.entities import PipelineVariable

__all__ = ["Object2Vec", "Object2VecModel"]


def _list_check_subset(valid_super_list):
    """A comma-separated string whose items are all in ``valid_super_list``."""
    valid = set(valid_super_list)
    return lambda value: isinstance(value, str) and {s.strip() for s in value.split(",")} <= valid


def _int_in(name, low, high):
    return hp(name, (ge(low), le(high)), f"An integer in [{low}, {high}]", int)


def _float_in(name, low, high):
    return hp(name, (ge(low), le(high)), f"A float in [{low}, {high}]", float)


def _bool(name):
    return hp(name, (), "Either True or False", bool)


class Object2Vec(AmazonAlgorithmEstimatorBase):
    """Embeddings of pairs of objects (image ``object2vec``); default mini-batch size 32."""

    repo_name: str = "object2vec"
    repo_version: str = "1"
    MINI_BATCH_SIZE: int = 32

    enc_dim: hp = _int_in("enc_dim", 4, 10000)
    mini_batch_size: hp = _int_in("mini_batch_size", 1, 10000)
    epochs: hp = _int_in("epochs", 1, 100)
    early_stopping_patience: hp = _int_in("early_stopping_patience", 1, 5)
    early_stopping_tolerance: hp = _float_in("early_stopping_tolerance", 1e-06, 0.1)
    dropout: hp = _float_in("dropout", 0.0, 1.0)
    weight_decay: hp = _float_in("weight_decay", 0.0, 10000.0)
    bucket_width: hp = _int_in("bucket_width", 0, 100)
    num_classes: hp = _int_in("num_classes", 2, 30)
    mlp_layers: hp = _int_in("mlp_layers", 1, 10)
    mlp_dim: hp = _int_in("mlp_dim", 2, 10000)
    mlp_activation: hp = hp("mlp_activation", isin("tanh", "relu", "linear"), 'One of "tanh", "relu", "linear"', str)
    output_layer: hp = hp(
        "output_layer", isin("softmax", "mean_squared_error"), 'One of "softmax", "mean_squared_error"', str
    )
    optimizer: hp = hp(
        "optimizer",
        isin("adagrad", "adam", "rmsprop", "sgd", "adadelta"),
        'One of "adagrad", "adam", "rmsprop", "sgd", "adadelta"',
        str,
    )
    learning_rate: hp = _float_in("learning_rate", 1e-06, 1.0)
    negative_sampling_rate: hp = _int_in("negative_sampling_rate", 0, 100)
    comparator_list: hp = hp(
        "comparator_list",
        _list_check_subset(["hadamard", "concat", "abs_diff"]),
        'Comma-separated of hadamard, concat, abs_diff. E.g. "hadamard,abs_diff"',
        str,
    )
    tied_token_embedding_weight: hp = _bool("tied_token_embedding_weight")
    token_embedding_storage_type: hp = hp(
        "token_embedding_storage_type", isin("dense", "row_sparse"), 'One of "dense", "row_sparse"', str
    )
    enc0_network: hp = hp(
        "enc0_network",
        isin("hcnn", "bilstm", "pooled_embedding"),
        'One of "hcnn", "bilstm", "pooled_embedding"',
        str,
    )
    enc1_network: hp = hp(
        "enc1_network",
        isin("hcnn", "bilstm", "pooled_embedding", "enc0"),
        'One of "hcnn", "bilstm", "pooled_embedding", "enc0"',
        str,
    )
    enc0_cnn_filter_width: hp = _int_in("enc0_cnn_filter_width", 1, 9)
    enc1_cnn_filter_width: hp = _int_in("enc1_cnn_filter_width", 1, 9)
    enc0_max_seq_len: hp = _int_in("enc0_max_seq_len", 1, 5000)
    enc1_max_seq_len: hp = _int_in("enc1_max_seq_len", 1, 5000)
    enc0_token_embedding_dim: hp = _int_in("enc0_token_embedding_dim", 2, 1000)
    enc1_token_embedding_dim: hp = _int_in("enc1_token_embedding_dim", 2, 1000)
    enc0_vocab_size: hp = _int_in("enc0_vocab_size", 2, 3000000)
    enc1_vocab_size: hp = _int_in("enc1_vocab_size", 2, 3000000)
    enc0_layers: hp = _int_in("enc0_layers", 1, 4)
    enc1_layers: hp = _int_in("enc1_layers", 1, 4)
    enc0_freeze_pretrained_embedding: hp = _bool("enc0_freeze_pretrained_embedding")
    enc1_freeze_pretrained_embedding: hp = _bool("enc1_freeze_pretrained_embedding")

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Optional[Union[int, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = None,
        epochs: Optional[int] = None,
        enc0_max_seq_len: Optional[int] = None,
        enc0_vocab_size: Optional[int] = None,
        enc_dim: Optional[int] = None,
        mini_batch_size: Optional[int] = None,
        early_stopping_patience: Optional[int] = None,
        early_stopping_tolerance: Optional[float] = None,
        dropout: Optional[float] = None,
        weight_decay: Optional[float] = None,
        bucket_width: Optional[int] = None,
        num_classes: Optional[int] = None,
        mlp_layers: Optional[int] = None,
        mlp_dim: Optional[int] = None,
        mlp_activation: Optional[str] = None,
        output_layer: Optional[str] = None,
        optimizer: Optional[str] = None,
        learning_rate: Optional[float] = None,
        negative_sampling_rate: Optional[int] = None,
        comparator_list: Optional[str] = None,
        tied_token_embedding_weight: Optional[bool] = None,
        token_embedding_storage_type: Optional[str] = None,
        enc0_network: Optional[str] = None,
        enc1_network: Optional[str] = None,
        enc0_cnn_filter_width: Optional[int] = None,
        enc1_cnn_filter_width: Optional[int] = None,
        enc1_max_seq_len: Optional[int] = None,
        enc0_token_embedding_dim: Optional[int] = None,
        enc1_token_embedding_dim: Optional[int] = None,
        enc1_vocab_size: Optional[int] = None,
        enc0_layers: Optional[int] = None,
        enc1_layers: Optional[int] = None,
        enc0_freeze_pretrained_embedding: Optional[bool] = None,
        enc1_freeze_pretrained_embedding: Optional[bool] = None,
        **kwargs,
    ):
        """An Object2Vec estimator; each hyperparameter is the algorithm's of the same name.

        Args:
            role, instance_count, instance_type: See :class:`AmazonAlgorithmEstimatorBase`.
            epochs (int): Passes over the training data, in [1, 100].
            enc0_max_seq_len (int): Maximum sequence length of encoder 0.
            enc0_vocab_size (int): Vocabulary size of encoder 0.
            The other arguments: the Object2Vec hyperparameters of the same names.
            **kwargs: See :class:`AmazonAlgorithmEstimatorBase`.
        """
        super().__init__(role, instance_count, instance_type, **kwargs)
        self._set_hyperparameters_from(locals())

    def create_model(self, vpc_config_override="VPC_CONFIG_DEFAULT", **kwargs):
        """An :class:`Object2VecModel` of this estimator's model data."""
        return self._algorithm_model(Object2VecModel, vpc_config_override, kwargs)

    def _prepare_for_training(self, records, mini_batch_size=None, job_name=None):
        if mini_batch_size is None:
            mini_batch_size = self.MINI_BATCH_SIZE
        super()._prepare_for_training(records, mini_batch_size=mini_batch_size, job_name=job_name)


class Object2VecModel(_AlgorithmModel):
    """An Object2Vec model (image ``object2vec``)."""

    _algorithm = Object2Vec
