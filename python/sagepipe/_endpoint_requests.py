"""The session's endpoint request builders (``create_endpoint_config``, ``create_endpoint``,
``create_inference_component``), shaped as the SDK's ``sagemaker.session.Session`` builds them.

There are no endpoints locally: under a ``PipelineSession`` each call returns the captured
request as the step arguments of an ``EndpointConfigStep``, ``EndpointStep`` or
``InferenceComponentStep``; on a plain session it raises ``PipelineSessionRequiredError``.
"""

from typing import Any, Callable, Dict, List, Optional

from sagepipe._job_requests import put_present
from sagepipe.utils import format_tags


def production_variant(
    model_name=None,
    instance_type=None,
    initial_instance_count=None,
    variant_name="AllTraffic",
    initial_weight=1,
    accelerator_type=None,
    serverless_inference_config=None,
    volume_size=None,
    model_data_download_timeout=None,
    container_startup_health_check_timeout=None,
    managed_instance_scaling=None,
    routing_config=None,
    inference_ami_version=None,
) -> Dict[str, Any]:
    """A ``ProductionVariant`` of a ``CreateEndpointConfig`` request (one instance by default)."""
    variant: Dict[str, Any] = {"VariantName": variant_name}
    if model_name:
        variant["ModelName"] = model_name
        variant["InitialVariantWeight"] = initial_weight
    if accelerator_type:
        variant["AcceleratorType"] = accelerator_type
    if managed_instance_scaling:
        variant["ManagedInstanceScaling"] = managed_instance_scaling
    if serverless_inference_config:
        variant["ServerlessConfig"] = serverless_inference_config
    else:
        variant["InitialInstanceCount"] = initial_instance_count or 1
        variant["InstanceType"] = instance_type
        for key, value in (
            ("VolumeSizeInGB", volume_size),
            ("ModelDataDownloadTimeoutInSeconds", model_data_download_timeout),
            ("ContainerStartupHealthCheckTimeoutInSeconds", container_startup_health_check_timeout),
            ("RoutingConfig", routing_config),
        ):
            if value is not None:
                variant[key] = value
    if inference_ami_version:
        variant["InferenceAmiVersion"] = inference_ami_version
    return variant


class EndpointRequests:
    """Endpoint request builders of a session (mixed into ``sagepipe.session.Session``)."""

    # The Session's (the second from JobRequests).
    expand_role: Callable[[str], str]
    _intercept_create_request: Callable[..., Any]

    def create_endpoint_config(
        self,
        name,
        model_name=None,
        initial_instance_count=None,
        instance_type=None,
        accelerator_type=None,
        tags=None,
        kms_key=None,
        data_capture_config_dict=None,
        volume_size=None,
        model_data_download_timeout=None,
        container_startup_health_check_timeout=None,
        explainer_config_dict=None,
        async_inference_config_dict=None,
        serverless_inference_config_dict=None,
        routing_config: Optional[Dict[str, Any]] = None,
        inference_ami_version: Optional[str] = None,
        production_variants: Optional[List[Dict[str, Any]]] = None,
        role: Optional[str] = None,
    ):
        """The ``CreateEndpointConfig`` request (step arguments of an ``EndpointConfigStep``).

        One production variant is built from the model arguments unless ``production_variants``
        is given. With no variant naming a model (inference-component endpoints) the request
        carries ``ExecutionRoleArn``.
        """
        if production_variants is None:
            production_variants = [
                production_variant(
                    model_name,
                    instance_type,
                    initial_instance_count,
                    accelerator_type=accelerator_type,
                    serverless_inference_config=serverless_inference_config_dict,
                    volume_size=volume_size,
                    model_data_download_timeout=model_data_download_timeout,
                    container_startup_health_check_timeout=container_startup_health_check_timeout,
                    routing_config=routing_config,
                    inference_ami_version=inference_ami_version,
                )
            ]
        request: Dict[str, Any] = {"EndpointConfigName": name, "ProductionVariants": production_variants}
        if not any("ModelName" in variant for variant in production_variants):
            request["ExecutionRoleArn"] = self.expand_role(role) if role else role
        request["Tags"] = format_tags(tags) or []
        put_present(
            request,
            (
                ("KmsKeyId", kms_key),
                ("DataCaptureConfig", data_capture_config_dict),
                ("AsyncInferenceConfig", async_inference_config_dict),
                ("ExplainerConfig", explainer_config_dict),
            ),
        )
        return self._intercept_create_request(request, None, "create_endpoint_config")

    def create_endpoint(self, endpoint_name, config_name, tags=None, wait=True, live_logging=False):
        """The ``CreateEndpoint`` request (step arguments of an ``EndpointStep``)."""
        request = {"EndpointName": endpoint_name, "EndpointConfigName": config_name, "Tags": format_tags(tags) or []}
        return self._intercept_create_request(request, None, "create_endpoint")

    def create_inference_component(
        self,
        inference_component_name: str,
        endpoint_name: str,
        variant_name: str,
        specification: Dict[str, Any],
        runtime_config: Optional[Dict[str, Any]] = None,
        tags=None,
        wait: bool = True,
    ):
        """The ``CreateInferenceComponent`` request (step arguments of an ``InferenceComponentStep``);
        one copy unless ``runtime_config`` says otherwise."""
        request = {
            "InferenceComponentName": inference_component_name,
            "EndpointName": endpoint_name,
            "VariantName": variant_name,
            "Specification": specification,
            "RuntimeConfig": {"CopyCount": 1} if runtime_config is None else runtime_config,
        }
        tags = format_tags(tags)
        if tags:
            request["Tags"] = tags
        return self._intercept_create_request(request, None, "create_inference_component")
