"""InferenceComponentStep (mirror of ``sagemaker.workflow.inference_component_step``).

Carries the ``CreateInferenceComponent`` request. There are no endpoints locally: running the
step fails before the execution starts unless a handler is registered for the
``InferenceComponent`` type or the step is left out of a selective run.
"""

from typing import Any, Dict, List, Optional, Union

from sagepipe.workflow._argument_validation import arguments_from, validate_step_arguments
from sagepipe.workflow.entities import RequestType
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import Step, StepTypeEnum


class InferenceComponentStep(Step):
    """Creates or updates a SageMaker Inference Component (neither cacheable nor retryable)."""

    def __init__(
        self,
        name: str,
        step_args=None,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
        *,
        arguments: Optional[Dict[str, Any]] = None,
    ):
        """Construct an ``InferenceComponentStep``.

        Args:
            name (str): The name of the step.
            step_args: The ``CreateInferenceComponent`` request: captured by
                ``pipeline_session.create_inference_component()``, or a dict.
            display_name (str): Optional display name.
            description (str): Optional description.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.
            arguments (dict): The request as a dict (the other spelling of ``step_args``).

        Raises:
            ValueError: No request, or a key outside the ``CreateInferenceComponent`` input.
        """
        super().__init__(
            name=name,
            display_name=display_name,
            description=description,
            step_type=StepTypeEnum.INFERENCE_COMPONENT,
            depends_on=depends_on,
        )
        self._arguments = arguments_from("InferenceComponentStep", step_args, arguments, "create_inference_component")
        self._validate()
        self._properties = Properties(step_name=name, step=self, shape_name="DescribeInferenceComponentOutput")

    def _validate(self):
        validate_step_arguments("InferenceComponentStep", self._arguments, "sagemaker.CreateInferenceComponent")

    @property
    def arguments(self) -> RequestType:
        """The ``CreateInferenceComponent`` request."""
        self._validate()
        return self._arguments

    @property
    def properties(self):
        """A ``Properties`` object shaped like ``DescribeInferenceComponentOutput``."""
        return self._properties
