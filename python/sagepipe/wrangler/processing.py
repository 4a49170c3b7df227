"""The Data Wrangler processor (mirror of ``sagemaker.wrangler.processing``).

A Data Wrangler job runs a ``.flow`` file in the Data Wrangler container. The definition is the
SDK's; running one locally needs a runner for the container image
(``sagepipe.local_runners.register_image``), else ``start()`` fails before anything runs, naming
the step and the image.
"""

from typing import Dict, Optional

from sagepipe import image_uris
from sagepipe.network import NetworkConfig
from sagepipe.processing import ProcessingInput, Processor
from sagepipe.session import session_or_default

FLOW_INPUT_NAME = "flow"
FLOW_CONTAINER_PATH = "/opt/ml/processing/flow"


class DataWranglerProcessor(Processor):
    """Handles Amazon SageMaker Data Wrangler tasks."""

    def __init__(
        self,
        role: str = None,
        data_wrangler_flow_source: str = None,
        instance_count: int = None,
        instance_type: str = None,
        volume_size_in_gb: int = 30,
        volume_kms_key: str = None,
        output_kms_key: str = None,
        max_runtime_in_seconds: int = None,
        base_job_name: str = None,
        sagemaker_session=None,
        env: Dict[str, str] = None,
        tags=None,
        network_config: Optional[NetworkConfig] = None,
    ):
        """Initializes a ``DataWranglerProcessor``.

        Args:
            data_wrangler_flow_source (str): The ``.flow`` file: an S3 URI, or a local path
                (uploaded into the store like any local processing input).
            Other arguments: see :class:`sagepipe.processing.Processor`.
        """
        self.data_wrangler_flow_source = data_wrangler_flow_source
        sagemaker_session = session_or_default(sagemaker_session)
        image_uri = image_uris.retrieve("data-wrangler", region=sagemaker_session.boto_region_name)
        super().__init__(
            role=role,
            image_uri=image_uri,
            instance_count=instance_count,
            instance_type=instance_type,
            volume_size_in_gb=volume_size_in_gb,
            volume_kms_key=volume_kms_key,
            output_kms_key=output_kms_key,
            max_runtime_in_seconds=max_runtime_in_seconds,
            base_job_name=base_job_name,
            sagemaker_session=sagemaker_session,
            env=env,
            tags=tags,
            network_config=network_config,
        )

    def _normalize_args(self, job_name=None, arguments=None, inputs=None, outputs=None, code=None, kms_key=None):
        """Adds the flow file as the ``flow`` input unless the inputs already have one."""
        inputs = inputs or []
        if not any(processing_input.input_name == FLOW_INPUT_NAME for processing_input in inputs):
            inputs.append(self._get_recipe_input())
        return super()._normalize_args(job_name, arguments, inputs, outputs, code, kms_key)

    def _get_recipe_input(self):
        """The ``flow`` input: the flow file at ``/opt/ml/processing/flow``."""
        return ProcessingInput(
            source=self.data_wrangler_flow_source,
            destination=FLOW_CONTAINER_PATH,
            input_name=FLOW_INPUT_NAME,
            s3_data_type="S3Prefix",
            s3_input_mode="File",
            s3_data_distribution_type="FullyReplicated",
        )
