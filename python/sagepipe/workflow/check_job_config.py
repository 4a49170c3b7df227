"""CheckJobConfig (mirror of ``sagemaker.workflow.check_job_config``).

The job settings of the baselining job behind a ``QualityCheckStep`` or ``ClarifyCheckStep``.
"""

from sagepipe.model_monitor.model_monitoring import _SUGGESTION_JOB_BASE_NAME
from sagepipe.processing import Processor
from sagepipe.utils import format_tags, name_from_base


class CheckJobConfig:
    """Check job config for QualityCheckStep and ClarifyCheckStep."""

    def __init__(
        self,
        role,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        volume_size_in_gb=30,
        volume_kms_key=None,
        output_kms_key=None,
        max_runtime_in_seconds=None,
        base_job_name=None,
        sagemaker_session=None,
        env=None,
        tags=None,
        network_config=None,
    ):
        """Constructs a CheckJobConfig instance.

        Args:
            role (str): An AWS IAM role name or ARN (recorded; not needed locally).
            instance_count (int): The number of instances of the check job (default: 1).
            instance_type (str): The instance type of the check job (default: 'ml.m5.xlarge').
            volume_size_in_gb (int): Size in GB of the job's storage volume (default: 30).
            volume_kms_key (str): A KMS key for the processing volume (default: None).
            output_kms_key (str): The KMS key id for the job's outputs (default: None).
            max_runtime_in_seconds (int): Timeout of the job in seconds (default: None).
            base_job_name (str): Prefix of the job name (default: None).
            sagemaker_session (sagepipe.session.Session): The session; pass the pipeline's
                ``PipelineSession`` (default: a new ``Session``).
            env (dict): Environment variables of the job (default: None).
            tags (Optional[Tags]): Tags of the job (default: None).
            network_config (sagepipe.network.NetworkConfig): Network settings (default: None).
        """
        self.role = role
        self.instance_count = instance_count
        self.instance_type = instance_type
        self.volume_size_in_gb = volume_size_in_gb
        self.volume_kms_key = volume_kms_key
        self.output_kms_key = output_kms_key
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.base_job_name = base_job_name
        if sagemaker_session is None:
            from sagepipe.session import Session

            sagemaker_session = Session()
        self.sagemaker_session = sagemaker_session
        self.env = env
        self.tags = format_tags(tags)
        self.network_config = network_config

    def _baselining_job_name(self) -> str:
        """A new baselining job name, as Model Monitor names them (used in default S3 paths)."""
        return name_from_base(self.base_job_name or _SUGGESTION_JOB_BASE_NAME)

    def _processor(self, image_uri: str, env=None, processor_class=Processor, **kwargs) -> Processor:
        """The processor of the check job: this config's settings, running ``image_uri``."""
        if processor_class is Processor:
            kwargs["image_uri"] = image_uri
            kwargs["entrypoint"] = None
        processor = processor_class(
            role=self.role,
            instance_count=self.instance_count,
            instance_type=self.instance_type,
            volume_size_in_gb=self.volume_size_in_gb,
            volume_kms_key=self.volume_kms_key,
            output_kms_key=self.output_kms_key,
            max_runtime_in_seconds=self.max_runtime_in_seconds,
            sagemaker_session=self.sagemaker_session,
            env=env,
            tags=self.tags,
            network_config=self.network_config,
            **kwargs,
        )
        # Set after construction: a Clarify processor takes no base_job_name argument.
        processor.base_job_name = self.base_job_name
        return processor
