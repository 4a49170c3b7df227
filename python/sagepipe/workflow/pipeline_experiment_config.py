"""Pipeline experiment config (mirror of ``sagemaker.workflow.pipeline_experiment_config``)."""

from typing import Union

from sagepipe.workflow.entities import Entity, Expression, RequestType
from sagepipe.workflow.execution_variables import ExecutionVariable
from sagepipe.workflow.parameters import Parameter


class PipelineExperimentConfig(Entity):
    """Experiment config for SageMaker pipeline."""

    def __init__(
        self,
        experiment_name: Union[str, Parameter, ExecutionVariable, Expression],
        trial_name: Union[str, Parameter, ExecutionVariable, Expression],
    ):
        """Create a PipelineExperimentConfig.

        Args:
            experiment_name (Union[str, Parameter, ExecutionVariable, Expression]):
                the name of the experiment that will be created.
            trial_name (Union[str, Parameter, ExecutionVariable, Expression]):
                the name of the trial that will be created.
        """
        self.experiment_name = experiment_name
        self.trial_name = trial_name

    def to_request(self) -> RequestType:
        """Returns: the request structure."""
        return {
            "ExperimentName": self.experiment_name,
            "TrialName": self.trial_name,
        }


class PipelineExperimentConfigProperty(Expression):
    """Reference to pipeline experiment config property."""

    def __init__(self, name: str):
        """Create a reference to pipeline experiment property.

        Args:
            name (str): The name of the pipeline experiment config property.
        """
        super().__init__()
        self.name = name

    @property
    def expr(self) -> RequestType:
        """The 'Get' expression dict for a pipeline experiment config property."""
        return {"Get": f"PipelineExperimentConfig.{self.name}"}


class PipelineExperimentConfigProperties:
    """Enum-like class for all pipeline experiment config property references."""

    EXPERIMENT_NAME = PipelineExperimentConfigProperty("ExperimentName")
    TRIAL_NAME = PipelineExperimentConfigProperty("TrialName")
