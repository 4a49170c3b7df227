"""Base of the built-in Amazon algorithms (mirror of ``sagemaker.amazon.amazon_estimator``).

An algorithm estimator is an :class:`~sagepipe.estimator.EstimatorBase` whose image is the
algorithm's (``image_uris.retrieve(repo_name, region, version=repo_version)``, offline) and whose
hyperparameters are typed :class:`~sagepipe.amazon.hyperparameter.Hyperparameter` attributes.
It trains on :class:`RecordSet` channels: :meth:`AmazonAlgorithmEstimatorBase.record_set`
writes numpy data as RecordIO-protobuf shards plus a manifest into the store's S3 area, and
``fit(records, mini_batch_size=...)`` under a ``PipelineSession`` returns the arguments of a
``TrainingStep`` exactly as the SDK builds them.

The algorithms themselves are AWS container images: running such a step locally needs a runner
registered with :func:`sagepipe.local_runners.register_image`; without one, ``start()`` fails
before anything runs, naming the step and the image.
"""

import json
import logging
import warnings
from typing import Dict, Optional, Type, Union
from urllib.parse import urlparse

from sagepipe import image_uris, s3
from sagepipe.amazon import validation
from sagepipe.amazon.common import write_numpy_to_dense_tensor
from sagepipe.amazon.hyperparameter import Hyperparameter as hp  # noqa: N813 (the SDK's alias)
from sagepipe.estimator import EstimatorBase, _TrainingJob
from sagepipe.inputs import FileSystemInput, TrainingInput
from sagepipe.model import Model
from sagepipe.session import session_or_default
from sagepipe.utils import sagemaker_timestamp
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.entities import PipelineVariable
from sagepipe.workflow.pipeline_context import runnable_by_pipeline

logger = logging.getLogger(__name__)

__all__ = [
    "AmazonAlgorithmEstimatorBase",
    "FileSystemRecordSet",
    "RecordSet",
    "get_image_uri",
    "upload_numpy_to_s3_shards",
]


class AmazonAlgorithmEstimatorBase(EstimatorBase):
    """Base class of the built-in algorithm estimators (not instantiated directly)."""

    feature_dim: hp = hp("feature_dim", validation.gt(0), data_type=int)
    mini_batch_size: hp = hp("mini_batch_size", validation.gt(0), data_type=int)
    repo_name: Optional[str] = None
    repo_version: Optional[str] = None

    DEFAULT_MINI_BATCH_SIZE: Optional[int] = None

    def __init__(
        self,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Optional[Union[int, PipelineVariable]] = None,
        instance_type: Optional[Union[str, PipelineVariable]] = None,
        data_location: Optional[str] = None,
        enable_network_isolation: Union[bool, PipelineVariable] = False,
        **kwargs,
    ):
        """Initialize an algorithm estimator.

        Args:
            role (str): An IAM role ARN (recorded; not needed locally).
            instance_count (int or PipelineVariable): Number of training instances (recorded;
                also the number of shards :meth:`record_set` writes).
            instance_type (str or PipelineVariable): Training instance type (recorded).
            data_location (str): The ``s3://`` prefix :meth:`record_set` writes under
                (default: ``s3://<default bucket>/<default prefix>/sagemaker-record-sets/``).
            enable_network_isolation (bool or PipelineVariable): Recorded.
            **kwargs: The arguments of :class:`~sagepipe.estimator.EstimatorBase`.
        """
        super().__init__(
            role, instance_count, instance_type, enable_network_isolation=enable_network_isolation, **kwargs
        )
        self._data_location = data_location or s3.default_bucket_uri(
            self.sagemaker_session, "sagemaker-record-sets", with_end_slash=True
        )

    def _set_hyperparameters_from(self, arguments: Dict) -> None:
        """Assign each hyperparameter attribute of this class found in ``arguments`` (in their order)."""
        declared = {name for klass in type(self).__mro__ for name, v in vars(klass).items() if isinstance(v, hp)}
        for name, value in arguments.items():
            if name in declared:
                setattr(self, name, value)

    def _algorithm_model(self, model_cls, vpc_config_override, kwargs):
        """``create_model()`` of the algorithms: ``model_cls`` over this estimator's model data."""
        return model_cls(
            self.model_data,
            self.role,
            sagemaker_session=self.sagemaker_session,
            vpc_config=self.get_vpc_config(vpc_config_override),
            **kwargs,
        )

    def training_image_uri(self):
        """The algorithm's image in the session's region."""
        return image_uris.retrieve(self.repo_name, self.sagemaker_session.boto_region_name, version=self.repo_version)

    def hyperparameters(self):
        """The non-None hyperparameters as strings (lists as JSON)."""
        return hp.serialize_all(self)

    @property
    def data_location(self):
        """The ``s3://`` prefix :meth:`record_set` writes under."""
        return self._data_location

    @data_location.setter
    def data_location(self, data_location: str):
        if is_pipeline_variable(data_location):
            raise TypeError(
                "Invalid input: data_location should be a plain string "
                f"rather than a pipeline variable - ({type(data_location)})."
            )
        if not data_location.startswith("s3://"):
            raise ValueError(f'Expecting an S3 URL beginning with "s3://". Got "{data_location}"')
        self._data_location = data_location if data_location.endswith("/") else data_location + "/"

    def prepare_workflow_for_training(self, records=None, mini_batch_size=None, job_name=None):
        """Set the job name, output path and the record-derived hyperparameters."""
        self._prepare_for_training(records=records, mini_batch_size=mini_batch_size, job_name=job_name)

    def _prepare_for_training(self, records, mini_batch_size=None, job_name=None):
        """Set the job name and output path, then ``feature_dim`` (from the train channel) and ``mini_batch_size``."""
        super()._prepare_for_training(job_name=job_name)
        self.feature_dim = _train_record_set(records).feature_dim
        self.mini_batch_size = mini_batch_size

    @runnable_by_pipeline
    def fit(
        self,
        records: "RecordSet",
        mini_batch_size: Optional[int] = None,
        wait: bool = True,
        logs: bool = True,
        job_name: Optional[str] = None,
        experiment_config: Optional[Dict[str, str]] = None,
    ):
        """Train on RecordIO-protobuf records (under a ``PipelineSession``: ``TrainingStep`` arguments).

        Args:
            records (RecordSet or FileSystemRecordSet or list): The channels to train on; a
                list must hold one record set per channel, including ``train``.
            mini_batch_size (int): The mini-batch size (default: the algorithm's).
            wait (bool): Forced to False under a pipeline session.
            logs (bool): Forced to False under a pipeline session.
            job_name (str): Training job name (popped from the step definition).
            experiment_config (dict[str, str]): Experiment management configuration.
        """
        self._prepare_for_training(records, job_name=job_name, mini_batch_size=mini_batch_size)
        self.latest_training_job = _TrainingJob.start_new(self, records, experiment_config)
        self.jobs.append(self.latest_training_job)

    def record_set(self, train, labels=None, channel="train", encrypt=False, distribution="ShardedByS3Key"):
        """Write a numpy matrix (and label vector) as RecordIO-protobuf shards; return their RecordSet.

        Each row becomes a Record with the row in feature ``values`` (and its label in label
        ``values``). One shard ``matrix_<i>.pbr`` per training instance and a manifest
        ``.amazon.manifest`` listing them are written under a new
        ``<data_location><ClassName>-<timestamp>/`` prefix, in the store (``s3://`` maps to
        ``<store>/s3/``).

        Args:
            train (numpy.ndarray): A 2D array of training data.
            labels (numpy.ndarray): A 1D array with one label per row of ``train``.
            channel (str): The training channel of the RecordSet.
            encrypt (bool): Recorded by S3 on AWS; nothing to encrypt locally.
            distribution (str): The channel's S3 data distribution type.

        Returns:
            RecordSet: The manifest of the written shards, with ``num_records`` and ``feature_dim``.
        """
        parsed = urlparse(self.data_location)
        key_prefix = f"{parsed.path}{type(self).__name__}-{sagemaker_timestamp()}/".lstrip("/")
        manifest = upload_numpy_to_s3_shards(
            self.instance_count,
            None,
            parsed.netloc,
            key_prefix,
            train,
            labels,
            encrypt,
            sagemaker_session=self.sagemaker_session,
        )
        return RecordSet(
            manifest,
            num_records=train.shape[0],
            feature_dim=train.shape[1],
            channel=channel,
            distribution=distribution,
        )

    def _get_default_mini_batch_size(self, num_records: int):
        """The algorithm's default mini-batch size, capped at the records per instance."""
        if is_pipeline_variable(self.instance_count):
            logger.warning(
                "mini_batch_size is not given in .fit() and instance_count is a pipeline variable (%s), "
                "resolved only when the pipeline runs: using mini_batch_size 1, which never exceeds the "
                "records per instance.",
                type(self.instance_count),
            )
            return 1
        return min(self.DEFAULT_MINI_BATCH_SIZE, max(1, int(num_records / self.instance_count)))


def _train_record_set(records):
    """The record set of the ``train`` channel (``records`` itself unless it is a list)."""
    if not isinstance(records, list):
        return records
    for record in records:
        if record.channel == "train":
            return record
    raise ValueError("Must provide train channel.")


def record_set_channels(records):
    """The channels (``{name: TrainingInput or FileSystemInput}``) of a record set or a list of them.

    Any other input is returned unchanged (``estimator._format_inputs_to_input_config`` calls
    this first, so ``fit()``, tuners and Airflow configs all take record sets).

    Raises:
        ValueError: A list holds something else than record sets, or a channel twice.
    """
    if isinstance(records, (RecordSet, FileSystemRecordSet)):
        return records.data_channel()
    if not isinstance(records, list):
        return records
    channels = {}
    for record in records:
        if not isinstance(record, (RecordSet, FileSystemRecordSet)):
            raise ValueError("List compatible only with RecordSets or FileSystemRecordSets.")
        if record.channel in channels:
            raise ValueError("Duplicate channels not allowed.")
        channels.update(record.data_channel())
    return channels


class RecordSet:
    """RecordIO-protobuf records in S3: a manifest file or a prefix of shard files."""

    def __init__(
        self,
        s3_data: Union[str, PipelineVariable],
        num_records: int,
        feature_dim: int,
        s3_data_type: Union[str, PipelineVariable] = "ManifestFile",
        channel: Union[str, PipelineVariable] = "train",
        distribution: str = "ShardedByS3Key",
    ):
        """A collection of Records serialized and stored in S3.

        Args:
            s3_data (str or PipelineVariable): The manifest file (``ManifestFile``) or the key
                prefix of the shards (``S3Prefix``).
            num_records (int): The number of records in the set.
            feature_dim (int): The length of each record's feature vector.
            s3_data_type (str or PipelineVariable): ``ManifestFile`` or ``S3Prefix``.
            channel (str or PipelineVariable): The training channel the set is bound to.
            distribution (str): ``ShardedByS3Key`` or ``FullyReplicated``.
        """
        self.s3_data = s3_data
        self.feature_dim = feature_dim
        self.num_records = num_records
        self.s3_data_type = s3_data_type
        self.channel = channel
        self.distribution = distribution

    def __repr__(self):
        return str((RecordSet, self.__dict__))

    def data_channel(self):
        """``{channel: TrainingInput}`` for ``fit()``."""
        return {self.channel: self.records_s3_input()}

    def records_s3_input(self):
        """The ``TrainingInput`` of the records."""
        return TrainingInput(self.s3_data, distribution=self.distribution, s3_data_type=self.s3_data_type)


class FileSystemRecordSet:
    """Records on an EFS or FSx for Lustre file system (the channel needs AWS to run)."""

    def __init__(
        self,
        file_system_id,
        file_system_type,
        directory_path,
        num_records,
        feature_dim,
        file_system_access_mode="ro",
        channel="train",
    ):
        """A channel of records on a file system.

        Args:
            file_system_id (str): The file system ID (``fs-...``).
            file_system_type (str): ``EFS`` or ``FSxLustre``.
            directory_path (str): The directory of the records in the file system.
            num_records (int): The number of records.
            feature_dim (int): The length of each record's feature vector.
            file_system_access_mode (str): ``ro`` or ``rw``.
            channel (str): The training channel the set is bound to.
        """
        self.file_system_input = FileSystemInput(
            file_system_id, file_system_type, directory_path, file_system_access_mode
        )
        self.feature_dim = feature_dim
        self.num_records = num_records
        self.channel = channel

    def __repr__(self):
        return str((FileSystemRecordSet, self.__dict__))

    def data_channel(self):
        """``{channel: FileSystemInput}`` for ``fit()``."""
        return {self.channel: self.file_system_input}


def _build_shards(num_shards, array):
    """Split ``array`` row-wise into ``num_shards`` parts (the last takes the remainder)."""
    if num_shards < 1:
        raise ValueError("num_shards must be >= 1")
    shard_size = int(array.shape[0] / num_shards)
    if shard_size == 0:
        raise ValueError("Array length is less than num shards")
    shards = [array[i * shard_size : (i + 1) * shard_size] for i in range(num_shards - 1)]
    shards.append(array[(num_shards - 1) * shard_size :])
    return shards


def upload_numpy_to_s3_shards(
    num_shards, s3, bucket, key_prefix, array, labels=None, encrypt=False, sagemaker_session=None
):
    """Write ``array`` (and ``labels``) as ``num_shards`` RecordIO-protobuf objects plus a manifest.

    The objects are ``s3://<bucket>/<key_prefix>/matrix_<i>.pbr``; the manifest
    ``.amazon.manifest`` next to them lists the prefix and the shard names.

    Args:
        num_shards (int): How many shard objects to write.
        s3: Where to write: ignored when ``sagemaker_session`` is given (objects go to its
            store); else an object with ``Object(bucket, key).put(Body=...)`` (a boto3 S3
            resource); None writes to the default store.
        bucket (str): The bucket.
        key_prefix (str): The key prefix of the objects.
        array (numpy.ndarray): The 2D training data.
        labels (numpy.ndarray): Optional labels, one per row.
        encrypt (bool): Ask S3 for AES256 server-side encryption (boto3 resource only).
        sagemaker_session: The session whose store receives the objects.

    Returns:
        str: The ``s3://`` URI of the manifest.
    """
    import io

    shards = _build_shards(num_shards, array)
    label_shards = _build_shards(num_shards, labels) if labels is not None else None
    if not key_prefix.endswith("/"):
        key_prefix += "/"
    put = _object_writer(s3, bucket, encrypt, sagemaker_session)
    file_names = []
    digits = len(str(len(shards)))
    for index, shard in enumerate(shards):
        body = io.BytesIO()
        write_numpy_to_dense_tensor(body, shard, label_shards[index] if label_shards is not None else None)
        file_name = f"matrix_{str(index).zfill(digits)}.pbr"
        put(key_prefix + file_name, body.getvalue())
        file_names.append(file_name)
    manifest_key = key_prefix + ".amazon.manifest"
    put(manifest_key, json.dumps([{"prefix": f"s3://{bucket}/{key_prefix}"}] + file_names).encode("utf-8"))
    return f"s3://{bucket}/{manifest_key}"


def _object_writer(s3, bucket, encrypt, sagemaker_session):
    """``put(key, data)`` into the session's store, or through a boto3-style S3 resource."""
    if sagemaker_session is None and s3 is not None:
        extra = {"ServerSideEncryption": "AES256"} if encrypt else {}
        return lambda key, data: s3.Object(bucket, key).put(Body=data, **extra)
    sagemaker_session = session_or_default(sagemaker_session)
    return lambda key, data: sagemaker_session.upload_string_as_file_body(body=data, bucket=bucket, key=key)


def get_image_uri(region_name, repo_name, repo_version="1"):
    """Deprecated: use :func:`sagepipe.image_uris.retrieve`."""
    warnings.warn(
        "The method get_image_uri has been renamed in sagemaker>=2: use sagemaker.image_uris.retrieve",
        DeprecationWarning,
        stacklevel=2,
    )
    return image_uris.retrieve(framework=repo_name, region=region_name, version=repo_version)


class _AlgorithmModel(Model):
    """A model served by a built-in algorithm's image (the ``<Algorithm>Model`` classes)."""

    # Set by each subclass: its repo name and version.
    _algorithm: Type[AmazonAlgorithmEstimatorBase] = AmazonAlgorithmEstimatorBase

    def __init__(
        self,
        model_data: Union[str, PipelineVariable],
        role: Optional[str] = None,
        sagemaker_session=None,
        **kwargs,
    ):
        """Initialize a model of the algorithm's image.

        Args:
            model_data (str or PipelineVariable): The S3 location of the ``model.tar.gz``
                (typically ``step.properties.ModelArtifacts.S3ModelArtifacts``).
            role (str): An IAM role ARN (recorded).
            sagemaker_session: The session (a ``PipelineSession`` to build steps).
            **kwargs: The other arguments of :class:`~sagepipe.model.Model`; ``image_uri``
                and ``predictor_cls`` are set by the algorithm and ignored, as in the SDK.
        """
        sagemaker_session = session_or_default(sagemaker_session)
        image_uri = image_uris.retrieve(
            self._algorithm.repo_name, sagemaker_session.boto_region_name, version=self._algorithm.repo_version
        )
        for unused in ("predictor_cls", "image_uri"):
            if unused in kwargs:
                logger.warning("%s=%s is ignored: %s sets it.", unused, kwargs.pop(unused), type(self).__name__)
        super().__init__(image_uri, model_data, role, sagemaker_session=sagemaker_session, **kwargs)
