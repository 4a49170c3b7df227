"""EndpointConfigStep and EndpointStep (mirror of ``sagemaker.workflow.endpoint_step``).

The steps carry the ``CreateEndpointConfig`` / ``CreateEndpoint`` request (``arguments=``, or the
step arguments captured by a PipelineSession). They build the SDK's definition; there are no
endpoints locally, so running one fails before the execution starts unless a handler is
registered for the ``EndpointConfig`` / ``Endpoint`` type
(``sagepipe.local_runners.register_step_type``) or the step is left out of a selective run.
"""

from typing import Any, Dict, List, Optional, Union

from sagepipe.workflow._argument_validation import arguments_from, validate_step_arguments
from sagepipe.workflow.entities import RequestType
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.retry import RetryPolicy
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import CacheConfig, ConfigurableRetryStep, Step, StepTypeEnum

# Members of the API shapes that SageMaker Pipelines does not accept in these steps.
_ENDPOINT_CONFIG_UNSUPPORTED = ("DataCaptureConfig", "ExplainerConfig")
_ENDPOINT_UNSUPPORTED = ("DeploymentConfig",)


class EndpointConfigStep(ConfigurableRetryStep):
    """Creates a SageMaker EndpointConfig within a pipeline (cacheable and retryable)."""

    def __init__(
        self,
        name: str,
        step_args=None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
        cache_config: Optional[CacheConfig] = None,
        retry_policies: Optional[List[RetryPolicy]] = None,
        *,
        arguments: Optional[Dict[str, Any]] = None,
    ):
        """Construct an ``EndpointConfigStep``.

        Args:
            name (str): The name of the step.
            step_args: The ``CreateEndpointConfig`` request: captured by
                ``pipeline_session.create_endpoint_config()``, or a dict.
            display_name (str): Optional display name.
            description (str): Optional description.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.
            cache_config (CacheConfig): Optional cache configuration.
            retry_policies (List[RetryPolicy]): Optional retry policies.
            arguments (dict): The request as a dict (the other spelling of ``step_args``).

        Raises:
            ValueError: No request, or a top-level key the pipeline service does not accept.
        """
        super().__init__(
            name=name,
            step_type=StepTypeEnum.ENDPOINT_CONFIG,
            display_name=display_name,
            description=description,
            depends_on=depends_on,
            retry_policies=retry_policies,
        )
        self._arguments = arguments_from("EndpointConfigStep", step_args, arguments, "create_endpoint_config")
        self._validate()
        self.cache_config = cache_config
        self._properties = Properties(step_name=name, step=self, shape_name="DescribeEndpointConfigOutput")

    def _validate(self):
        validate_step_arguments(
            "EndpointConfigStep", self._arguments, "sagemaker.CreateEndpointConfig", _ENDPOINT_CONFIG_UNSUPPORTED
        )

    @property
    def arguments(self) -> RequestType:
        """The ``CreateEndpointConfig`` request (checked again: it may have been changed)."""
        self._validate()
        return self._arguments

    @property
    def properties(self):
        """A ``Properties`` object shaped like ``DescribeEndpointConfigOutput``."""
        return self._properties

    def to_request(self) -> RequestType:
        """Get the request structure for workflow service calls."""
        request_dict = super().to_request()
        if self.cache_config:
            request_dict.update(self.cache_config.config)
        return request_dict


class EndpointStep(Step):
    """Creates or updates a SageMaker Endpoint within a pipeline (cacheable, not retryable)."""

    def __init__(
        self,
        name: str,
        step_args=None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
        cache_config: Optional[CacheConfig] = None,
        *,
        arguments: Optional[Dict[str, Any]] = None,
    ):
        """Construct an ``EndpointStep``.

        Args:
            name (str): The name of the step.
            step_args: The ``CreateEndpoint`` request: captured by
                ``pipeline_session.create_endpoint()``, or a dict.
            display_name (str): Optional display name.
            description (str): Optional description.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.
            cache_config (CacheConfig): Optional cache configuration.
            arguments (dict): The request as a dict (the other spelling of ``step_args``).

        Raises:
            ValueError: No request, or a top-level key the pipeline service does not accept.
        """
        super().__init__(
            name=name,
            display_name=display_name,
            description=description,
            step_type=StepTypeEnum.ENDPOINT,
            depends_on=depends_on,
        )
        self._arguments = arguments_from("EndpointStep", step_args, arguments, "create_endpoint")
        self._validate()
        self.cache_config = cache_config
        self._properties = Properties(step_name=name, step=self, shape_name="DescribeEndpointOutput")

    def _validate(self):
        validate_step_arguments("EndpointStep", self._arguments, "sagemaker.CreateEndpoint", _ENDPOINT_UNSUPPORTED)

    @property
    def arguments(self) -> RequestType:
        """The ``CreateEndpoint`` request (checked again: it may have been changed)."""
        self._validate()
        return self._arguments

    @property
    def properties(self):
        """A ``Properties`` object shaped like ``DescribeEndpointOutput``."""
        return self._properties

    def to_request(self) -> RequestType:
        """Get the request structure for workflow service calls."""
        request_dict = super().to_request()
        if self.cache_config:
            request_dict.update(self.cache_config.config)
        return request_dict
