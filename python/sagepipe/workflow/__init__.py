"""Mirror of ``sagemaker.workflow`` (SageMaker Python SDK v2) for sagepipe.

Importing this package is cheap: submodules are only loaded on demand.
"""

from typing import TYPE_CHECKING, Any, List

if TYPE_CHECKING:
    from typing_extensions import TypeIs

    from sagepipe.workflow.entities import PipelineVariable

__all__ = ["is_pipeline_variable", "is_pipeline_parameter_string", "PipelineNonPrimitiveInputTypes"]


def is_pipeline_variable(var: object) -> "TypeIs[PipelineVariable]":
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


# Names the SDK's ``sagemaker/workflow/__init__.py`` imports, so ``from sagemaker.workflow import
# ParameterString`` works. Resolved on first use: those modules import this package.
_SDK_REEXPORTS = {
    "Expression": "sagepipe.workflow.entities",
    "PipelineVariable": "sagepipe.workflow.entities",
    "ExecutionVariable": "sagepipe.workflow.execution_variables",
    "ExecutionVariables": "sagepipe.workflow.execution_variables",
    "Join": "sagepipe.workflow.functions",
    "JsonGet": "sagepipe.workflow.functions",
    "Parameter": "sagepipe.workflow.parameters",
    "ParameterBoolean": "sagepipe.workflow.parameters",
    "ParameterFloat": "sagepipe.workflow.parameters",
    "ParameterInteger": "sagepipe.workflow.parameters",
    "ParameterString": "sagepipe.workflow.parameters",
    "Properties": "sagepipe.workflow.properties",
}


def __getattr__(name: str) -> Any:
    if name == "PipelineNonPrimitiveInputTypes":
        from typing import Union

        from sagepipe.workflow.entities import Expression
        from sagepipe.workflow.execution_variables import ExecutionVariable
        from sagepipe.workflow.parameters import Parameter
        from sagepipe.workflow.properties import Properties

        value: Any = Union[ExecutionVariable, Expression, Parameter, Properties]
    elif name in _SDK_REEXPORTS:
        import importlib

        value = getattr(importlib.import_module(_SDK_REEXPORTS[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_SDK_REEXPORTS) | {"PipelineNonPrimitiveInputTypes"})
