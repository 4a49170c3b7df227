"""Amazon Bedrock steps (mirror of ``sagemaker.workflow.bedrock_steps``).

Each step carries the request of one Bedrock operation (keys in PascalCase, checked against the
operation's input shape). Bedrock is not available locally: running one fails before the
execution starts unless a handler is registered for its type or the step is left out of a
selective run.
"""

from typing import Any, Dict, List, Optional, Union

from sagepipe.workflow._argument_validation import validate_step_arguments
from sagepipe.workflow.entities import RequestType
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import Step, StepTypeEnum


class _BedrockStep(Step):
    """A Bedrock operation as a pipeline step: its request, and the fields of its Get* response."""

    _step_type: StepTypeEnum = None
    _operation: str = None
    _property_fields: tuple = ()

    def __init__(
        self,
        name: str,
        arguments: Dict[str, Any],
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
    ):
        """Construct the step.

        Args:
            name (str): The name of the step.
            arguments (dict): The request of the Bedrock operation (PascalCase keys).
            display_name (str): Optional display name.
            description (str): Optional description.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.

        Raises:
            ValueError: No arguments, or a key outside the operation's input.
        """
        super().__init__(
            name=name,
            display_name=display_name,
            description=description,
            step_type=self._step_type,
            depends_on=depends_on,
        )
        self._arguments = arguments
        self._validate()
        root = Properties(step_name=name, step=self)
        for field in self._property_fields:
            root.__dict__[field] = Properties(step_name=name, step=self, path=field)
        self._properties = root

    def _validate(self):
        validate_step_arguments(type(self).__name__, self._arguments, self._operation, pascal_case=True)

    @property
    def arguments(self) -> RequestType:
        """The request of the Bedrock operation."""
        self._validate()
        return self._arguments

    @property
    def properties(self):
        """The fields of the operation's Get* response."""
        return self._properties


class BedrockCustomModelStep(_BedrockStep):
    """Creates a custom model in Amazon Bedrock (``CreateCustomModel``)."""

    _step_type = StepTypeEnum.BEDROCK_CUSTOM_MODEL
    _operation = "bedrock.CreateCustomModel"
    _property_fields = (
        "ModelArn",
        "ModelName",
        "JobArn",
        "JobName",
        "BaseModelArn",
        "CustomizationType",
        "ModelKmsKeyArn",
        "HyperParameters",
        "TrainingDataConfig",
        "ValidationDataConfig",
        "OutputDataConfig",
        "TrainingMetrics",
        "ValidationMetrics",
        "CreationTime",
        "CustomizationConfig",
        "ModelStatus",
        "FailureMessage",
    )


class BedrockCustomModelDeploymentStep(_BedrockStep):
    """Deploys a Bedrock custom model for inference (``CreateCustomModelDeployment``)."""

    _step_type = StepTypeEnum.BEDROCK_CUSTOM_MODEL_DEPLOYMENT
    _operation = "bedrock.CreateCustomModelDeployment"
    _property_fields = (
        "ModelDeploymentArn",
        "ModelDeploymentName",
        "ModelArn",
        "CreatedAt",
        "Status",
        "FailureMessage",
        "Description",
        "Tags",
    )


class BedrockModelImportStep(_BedrockStep):
    """Imports a model into Bedrock (``CreateModelImportJob``)."""

    _step_type = StepTypeEnum.BEDROCK_MODEL_IMPORT
    _operation = "bedrock.CreateModelImportJob"
    _property_fields = (
        "JobArn",
        "JobName",
        "ImportedModelName",
        "ImportedModelArn",
        "RoleArn",
        "ModelDataSource",
        "Status",
        "FailureMessage",
        "CreationTime",
        "LastModifiedTime",
        "EndTime",
        "VpcConfig",
        "ImportedModelKmsKeyArn",
    )


class BedrockProvisionedModelThroughputStep(_BedrockStep):
    """Creates provisioned throughput for a Bedrock model (``CreateProvisionedModelThroughput``)."""

    _step_type = StepTypeEnum.BEDROCK_PROVISIONED_MODEL_THROUGHPUT
    _operation = "bedrock.CreateProvisionedModelThroughput"
    _property_fields = (
        "ModelUnits",
        "DesiredModelUnits",
        "ProvisionedModelName",
        "ProvisionedModelArn",
        "ModelArn",
        "DesiredModelArn",
        "FoundationModelArn",
        "Status",
        "CreationTime",
        "LastModifiedTime",
        "FailureMessage",
        "CommitmentDuration",
        "CommitmentExpirationTime",
    )
