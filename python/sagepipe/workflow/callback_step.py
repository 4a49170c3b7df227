"""CallbackStep (mirror of ``sagemaker.workflow.callback_step``)."""

from enum import Enum
from typing import List, Union

from sagepipe.workflow.entities import DefaultEnumMeta, OutputParameter, RequestType
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.steps import CacheConfig, Step, StepTypeEnum


class CallbackOutputTypeEnum(Enum, metaclass=DefaultEnumMeta):
    """CallbackOutput type enum."""

    String = "String"
    Integer = "Integer"
    Boolean = "Boolean"
    Float = "Float"


class CallbackOutput(OutputParameter):
    """Output for a callback step.

    Attributes:
        output_name (str): The output name
        output_type (CallbackOutputTypeEnum): The output type
    """

    def __init__(self, output_name: str = None, output_type: CallbackOutputTypeEnum = CallbackOutputTypeEnum.String):
        super().__init__(output_name, output_type)


class CallbackStep(Step):
    """Callback step for workflow."""

    def __init__(
        self,
        name: str,
        sqs_queue_url: str,
        inputs: dict,
        outputs: List[CallbackOutput],
        display_name: str = None,
        description: str = None,
        cache_config: CacheConfig = None,
        depends_on: Union[List[str], List[Step]] = None,
    ):
        """Constructs a CallbackStep.

        Args:
            name (str): The name of the callback step.
            sqs_queue_url (str): An SQS queue URL for receiving callback messages.
            inputs (dict): Input arguments provided in the SQS message body of callback messages.
            outputs (List[CallbackOutput]): Outputs that can be provided when completing a callback.
            display_name (str): The display name of the callback step.
            description (str): The description of the callback step.
            cache_config (CacheConfig): A `CacheConfig` instance.
            depends_on (List[str] or List[Step]): explicit dependencies.
        """
        super().__init__(name, display_name, description, StepTypeEnum.CALLBACK, depends_on)
        self.sqs_queue_url = sqs_queue_url
        self.outputs = outputs
        self.cache_config = cache_config
        self.inputs = inputs

        root_prop = Properties(step_name=name)
        property_dict = {}
        for output in outputs:
            property_dict[output.output_name] = Properties(
                step_name=name, path=f"OutputParameters['{output.output_name}']"
            )
        root_prop.__dict__["Outputs"] = property_dict
        self._properties = root_prop

    @property
    def arguments(self) -> RequestType:
        """The arguments dict that is used to define the callback step."""
        return self.inputs

    @property
    def properties(self):
        """A Properties object representing the output parameters of the callback step."""
        return self._properties

    def to_request(self) -> RequestType:
        """Updates the dictionary with cache configuration, queue URL and outputs."""
        request_dict = super().to_request()
        if self.cache_config:
            request_dict.update(self.cache_config.config)
        request_dict["SqsQueueUrl"] = self.sqs_queue_url
        request_dict["OutputParameters"] = list(map(lambda op: op.to_request(), self.outputs))
        return request_dict
