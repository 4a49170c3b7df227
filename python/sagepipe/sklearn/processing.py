"""The Scikit-Learn processor (mirror of ``sagemaker.sklearn.processing``)."""

from typing import Dict, List, Optional, Union

from sagepipe import image_uris
from sagepipe.processing import NetworkConfig, ScriptProcessor
from sagepipe.session import session_or_default
from sagepipe.sklearn.defaults import SKLEARN_NAME
from sagepipe.workflow.entities import PipelineVariable


class SKLearnProcessor(ScriptProcessor):
    """Handles processing tasks for jobs using scikit-learn (``python3 <code>`` in its image)."""

    def __init__(
        self,
        framework_version: str,
        role: Optional[Union[str, PipelineVariable]] = None,
        instance_count: Union[int, PipelineVariable] = None,
        instance_type: Union[str, PipelineVariable] = None,
        command: Optional[List[str]] = None,
        volume_size_in_gb: Union[int, PipelineVariable] = 30,
        volume_kms_key: Optional[Union[str, PipelineVariable]] = None,
        output_kms_key: Optional[Union[str, PipelineVariable]] = None,
        max_runtime_in_seconds: Optional[Union[int, PipelineVariable]] = None,
        base_job_name: Optional[str] = None,
        sagemaker_session=None,
        env: Optional[Dict[str, Union[str, PipelineVariable]]] = None,
        tags=None,
        network_config: Optional[NetworkConfig] = None,
    ):
        """Initialize an ``SKLearnProcessor`` instance.

        Args:
            framework_version (str): The scikit-learn version (e.g. ``1.2-1``).
            command (list[str]): The command to run the code (default ``["python3"]``).
            Other arguments: see :class:`sagepipe.processing.ScriptProcessor`.
        """
        if not command:
            command = ["python3"]
        sagemaker_session = session_or_default(sagemaker_session)
        image_uri = image_uris.retrieve(
            SKLEARN_NAME, sagemaker_session.boto_region_name, version=framework_version, instance_type=instance_type
        )
        super().__init__(
            role=role,
            image_uri=image_uri,
            instance_count=instance_count,
            instance_type=instance_type,
            command=command,
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
