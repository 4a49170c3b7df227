"""Mirror of ``sagemaker.workflow`` (SageMaker Python SDK v2) for sagepipe.

Importing this package is cheap: submodules are only loaded on demand.
"""

from typing import Any

__all__ = ["is_pipeline_variable", "is_pipeline_parameter_string", "PipelineNonPrimitiveInputTypes"]


def is_pipeline_variable(var: object) -> bool:
    """Check if the variable is a pipeline variable.

    Args:
        var (object): The variable to be verified.
    Returns:
         bool: True if it is, False otherwise.
    """
    from sagepipe.workflow.entities import PipelineVariable

    return isinstance(var, PipelineVariable)


def is_pipeline_parameter_string(var: object) -> bool:
    """Check if the variable is a pipeline parameter string.

    Args:
        var (object): The variable to be verified.
    Returns:
         bool: True if it is, False otherwise.
    """
    from sagepipe.workflow.parameters import ParameterString

    return isinstance(var, ParameterString)


def __getattr__(name: str) -> Any:
    if name == "PipelineNonPrimitiveInputTypes":
        from typing import Union

        from sagepipe.workflow.entities import Expression
        from sagepipe.workflow.execution_variables import ExecutionVariable
        from sagepipe.workflow.parameters import Parameter
        from sagepipe.workflow.properties import Properties

        value = Union[ExecutionVariable, Expression, Parameter, Properties]
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
