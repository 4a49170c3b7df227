"""LambdaStep (mirror of ``sagemaker.workflow.lambda_step``)."""

from enum import Enum
from typing import List, Optional, Union

from sagepipe.lambda_helper import Lambda
from sagepipe.workflow.entities import DefaultEnumMeta, OutputParameter, RequestType
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import CacheConfig, Step, StepTypeEnum


class LambdaOutputTypeEnum(Enum, metaclass=DefaultEnumMeta):
    """LambdaOutput type enum."""

    String = "String"
    Integer = "Integer"
    Boolean = "Boolean"
    Float = "Float"


class LambdaOutput(OutputParameter):
    """Output for a lambda step.

    Attributes:
        output_name (str): The output name
        output_type (LambdaOutputTypeEnum): The output type
    """

    def __init__(self, output_name: str = None, output_type: LambdaOutputTypeEnum = LambdaOutputTypeEnum.String):
        super().__init__(output_name, output_type)


class LambdaStep(Step):
    """Lambda step for workflow."""

    def __init__(
        self,
        name: str,
        lambda_func: Lambda,
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        inputs: Optional[dict] = None,
        outputs: Optional[List[LambdaOutput]] = None,
        cache_config: Optional[CacheConfig] = None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
    ):
        """Constructs a LambdaStep.

        Args:
            name (str): The name of the lambda step.
            lambda_func (Lambda): An instance of ``sagepipe.lambda_helper.Lambda``.
            display_name (str): The display name of the Lambda step.
            description (str): The description of the Lambda step.
            inputs (dict): Input arguments that will be provided to the lambda function.
            outputs (List[LambdaOutput]): List of outputs from the lambda function.
            cache_config (CacheConfig): A `CacheConfig` instance.
            depends_on (List[Union[str, Step, StepCollection]]): explicit dependencies.
        """
        super().__init__(name, display_name, description, StepTypeEnum.LAMBDA, depends_on)
        self.lambda_func = lambda_func
        self.outputs = outputs if outputs is not None else []
        self.cache_config = cache_config
        self.inputs = inputs if inputs is not None else {}

        root_prop = Properties(step_name=name)
        property_dict = {}
        for output in self.outputs:
            property_dict[output.output_name] = Properties(
                step_name=name, path=f"OutputParameters['{output.output_name}']"
            )
        root_prop.__dict__["Outputs"] = property_dict
        self._properties = root_prop

    @property
    def arguments(self) -> RequestType:
        """The arguments dict that is used to define the lambda step."""
        return self.inputs

    @property
    def properties(self):
        """A Properties object representing the output parameters of the lambda step."""
        return self._properties

    def to_request(self) -> RequestType:
        """Updates the dictionary with cache configuration, function ARN and outputs."""
        request_dict = super().to_request()
        if self.cache_config:
            request_dict.update(self.cache_config.config)

        request_dict["FunctionArn"] = self._get_function_arn()
        request_dict["OutputParameters"] = list(map(lambda op: op.to_request(), self.outputs))
        return request_dict

    def _get_function_arn(self):
        """Returns the lambda function arn.

        The SDK upserts/updates the function when code is given; sagepipe only references an
        existing ``function_arn`` (``Lambda.upsert`` raises ``NotImplementedError``).
        """
        if self.lambda_func.function_arn is None:
            response = self.lambda_func.upsert()
            return response["FunctionArn"]
        return self.lambda_func.function_arn
