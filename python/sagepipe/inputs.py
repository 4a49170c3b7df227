"""Channel configurations for S3 and file system data sources (mirror of ``sagemaker.inputs``)."""

from typing import List, Optional, Union

from sagepipe.workflow.entities import PipelineVariable, ValueObject

FILE_SYSTEM_TYPES = ["FSxLustre", "EFS"]
FILE_SYSTEM_ACCESS_MODES = ["ro", "rw"]

__all__ = [
    "BatchDataCaptureConfig",
    "CreateModelInput",
    "FileSystemInput",
    "ShuffleConfig",
    "TrainingInput",
    "TransformInput",
]


class TrainingInput:
    """Amazon SageMaker channel configurations for S3 data sources.

    Attributes:
        config (dict[str, dict]): A SageMaker ``DataSource`` referencing a SageMaker
            ``S3DataSource``.
    """

    def __init__(
        self,
        s3_data: Union[str, PipelineVariable],
        distribution: Optional[Union[str, PipelineVariable]] = None,
        compression: Optional[Union[str, PipelineVariable]] = None,
        content_type: Optional[Union[str, PipelineVariable]] = None,
        record_wrapping: Optional[Union[str, PipelineVariable]] = None,
        s3_data_type: Union[str, PipelineVariable] = "S3Prefix",
        instance_groups: Optional[List[Union[str, PipelineVariable]]] = None,
        input_mode: Optional[Union[str, PipelineVariable]] = None,
        attribute_names: Optional[List[Union[str, PipelineVariable]]] = None,
        target_attribute_name: Optional[Union[str, PipelineVariable]] = None,
        shuffle_config: Optional["ShuffleConfig"] = None,
        hub_access_config: Optional[dict] = None,
        model_access_config: Optional[dict] = None,
    ):
        """Create a definition for input data used by a SageMaker training job.

        Args:
            s3_data (str or PipelineVariable): Defines the location of S3 data to train on.
            distribution (str): ``FullyReplicated`` (default) or ``ShardedByS3Key``.
            compression (str): ``Gzip`` or ``None``.
            content_type (str): MIME type of the input data.
            record_wrapping (str): ``RecordIO`` or ``None``.
            s3_data_type (str): ``S3Prefix`` (default), ``ManifestFile`` or
                ``AugmentedManifestFile``.
            instance_groups (list[str]): Instance group names the channel is sent to.
            input_mode (str): ``File``, ``Pipe`` or ``FastFile`` for this channel.
            attribute_names (list[str]): Attribute names of an augmented manifest.
            target_attribute_name (str): The target attribute (Autopilot).
            shuffle_config (ShuffleConfig): Shuffling of S3 keys in Pipe mode.
            hub_access_config (dict): Hub content access configuration.
            model_access_config (dict): Model access configuration (EULA).
        """
        self.config = {"DataSource": {"S3DataSource": {"S3DataType": s3_data_type, "S3Uri": s3_data}}}
        if not (target_attribute_name or distribution):
            distribution = "FullyReplicated"
        if distribution is not None:
            self.config["DataSource"]["S3DataSource"]["S3DataDistributionType"] = distribution
        if compression is not None:
            self.config["CompressionType"] = compression
        if content_type is not None:
            self.config["ContentType"] = content_type
        if record_wrapping is not None:
            self.config["RecordWrapperType"] = record_wrapping
        if instance_groups is not None:
            self.config["DataSource"]["S3DataSource"]["InstanceGroupNames"] = instance_groups
        if input_mode is not None:
            self.config["InputMode"] = input_mode
        if attribute_names is not None:
            self.config["DataSource"]["S3DataSource"]["AttributeNames"] = attribute_names
        if target_attribute_name is not None:
            self.config["TargetAttributeName"] = target_attribute_name
        if shuffle_config is not None:
            self.config["ShuffleConfig"] = {"Seed": shuffle_config.seed}
        self.add_hub_access_config(hub_access_config)
        self.add_model_access_config(model_access_config)

    def add_hub_access_config(self, hub_access_config=None):
        """Add a hub access config to the S3 data source."""
        if hub_access_config is not None:
            self.config["DataSource"]["S3DataSource"]["HubAccessConfig"] = hub_access_config

    def add_model_access_config(self, model_access_config=None):
        """Add a model access config to the S3 data source."""
        if model_access_config is not None:
            self.config["DataSource"]["S3DataSource"]["ModelAccessConfig"] = model_access_config


class ShuffleConfig:
    """The seed of the shuffling of S3 keys in Pipe mode."""

    def __init__(self, seed):
        self.seed = seed


class FileInput:
    """A local-mode channel reading a ``file://`` URI (mirror of ``sagemaker.local.file_input``)."""

    def __init__(self, fileUri, content_type=None):  # noqa: N803  (SDK argument name)
        self.config = {
            "DataSource": {"FileDataSource": {"FileDataDistributionType": "FullyReplicated", "FileUri": fileUri}}
        }
        if content_type is not None:
            self.config["ContentType"] = content_type


class CreateModelInput(ValueObject):
    """Create model input for the legacy ``CreateModelStep``.

    Attributes:
        instance_type (str): Type of EC2 instance the model is built for.
        accelerator_type (str): Type of Elastic Inference accelerator.
    """

    def __init__(self, instance_type: str = None, accelerator_type: str = None):
        self.instance_type = instance_type
        self.accelerator_type = accelerator_type


class TransformInput(ValueObject):
    """Create a class containing all the parameters of a transform job input (legacy TransformStep).

    Attributes mirror ``Transformer.transform()``'s data arguments.
    """

    def __init__(
        self,
        data: str,
        data_type: str = "S3Prefix",
        content_type: str = None,
        compression_type: str = None,
        split_type: str = None,
        input_filter: str = None,
        output_filter: str = None,
        join_source: str = None,
        model_client_config: dict = None,
        batch_data_capture_config: dict = None,
    ):
        self.data = data
        self.data_type = data_type
        self.content_type = content_type
        self.compression_type = compression_type
        self.split_type = split_type
        self.input_filter = input_filter
        self.output_filter = output_filter
        self.join_source = join_source
        self.model_client_config = model_client_config
        self.batch_data_capture_config = batch_data_capture_config


class FileSystemInput:
    """Amazon SageMaker channel configurations for file system data sources."""

    def __init__(
        self,
        file_system_id,
        file_system_type,
        directory_path,
        file_system_access_mode="ro",
        content_type=None,
    ):
        """Create a new file system input used by a SageMaker training job.

        Raises:
            ValueError: On an unknown file system type or access mode.
        """
        if file_system_type not in FILE_SYSTEM_TYPES:
            raise ValueError(
                f"Unrecognized file system type: {file_system_type}. Valid values: {', '.join(FILE_SYSTEM_TYPES)}."
            )
        if file_system_access_mode not in FILE_SYSTEM_ACCESS_MODES:
            raise ValueError(
                f"Unrecognized file system access mode: {file_system_access_mode}. "
                f"Valid values: {', '.join(FILE_SYSTEM_ACCESS_MODES)}."
            )
        self.config = {
            "DataSource": {
                "FileSystemDataSource": {
                    "FileSystemId": file_system_id,
                    "FileSystemType": file_system_type,
                    "DirectoryPath": directory_path,
                    "FileSystemAccessMode": file_system_access_mode,
                }
            }
        }
        if content_type:
            self.config["ContentType"] = content_type


class BatchDataCaptureConfig:
    """Configuration object passed in when create a batch transform job."""

    def __init__(self, destination_s3_uri: str, kms_key_id: str = None, generate_inference_id: bool = None):
        self.destination_s3_uri = destination_s3_uri
        self.kms_key_id = kms_key_id
        self.generate_inference_id = generate_inference_id

    def _to_request_dict(self):
        request = {"DestinationS3Uri": self.destination_s3_uri}
        if self.kms_key_id is not None:
            request["KmsKeyId"] = self.kms_key_id
        if self.generate_inference_id is not None:
            request["GenerateInferenceId"] = self.generate_inference_id
        return request
