"""Network configuration of jobs (mirror of ``sagemaker.network``).

Processors take a :class:`NetworkConfig` as ``network_config=``; its request shape is the
service's ``NetworkConfig`` of ``CreateProcessingJob``. Locally jobs run on this machine, so the
settings are recorded in the definition (and in each job's request), not enforced.
"""

from typing import Any, Dict, List, Optional, Union

from sagepipe.workflow.entities import PipelineVariable

__all__ = ["NetworkConfig"]


class NetworkConfig:
    """Network isolation, VPC and inter-container encryption settings of a job."""

    def __init__(
        self,
        enable_network_isolation: Optional[Union[bool, PipelineVariable]] = None,
        security_group_ids: Optional[List[Union[str, PipelineVariable]]] = None,
        subnets: Optional[List[Union[str, PipelineVariable]]] = None,
        encrypt_inter_container_traffic: Optional[Union[bool, PipelineVariable]] = None,
    ):
        """Initialize a ``NetworkConfig``.

        Args:
            enable_network_isolation (bool or PipelineVariable): Whether the job's containers
                may make network calls (unset: the SageMaker config's, else False).
            security_group_ids (list[str or PipelineVariable]): VPC security group IDs.
            subnets (list[str or PipelineVariable]): VPC subnet IDs.
            encrypt_inter_container_traffic (bool or PipelineVariable): Whether traffic between
                the job's instances is encrypted.
        """
        # None (not False) until the request, so a Processor can fill it from the SageMaker config.
        self.enable_network_isolation = enable_network_isolation
        self.security_group_ids = security_group_ids
        self.subnets = subnets
        self.encrypt_inter_container_traffic = encrypt_inter_container_traffic

    def _to_request_dict(self) -> dict:
        """The service's ``NetworkConfig`` request structure."""
        isolation = False if self.enable_network_isolation is None else self.enable_network_isolation
        request: Dict[str, Any] = {"EnableNetworkIsolation": isolation}
        if self.encrypt_inter_container_traffic is not None:
            request["EnableInterContainerTrafficEncryption"] = self.encrypt_inter_container_traffic
        if self.security_group_ids is not None or self.subnets is not None:
            request["VpcConfig"] = {"SecurityGroupIds": self.security_group_ids, "Subnets": self.subnets}
        return request
