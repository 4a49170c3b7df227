"""Checks of the ``arguments`` of passthrough steps (endpoint, inference component, Bedrock).

Only top-level keys are checked, against the input shape of the wrapped AWS operation
(``sagepipe/data/step_argument_shapes.json``); values may be pipeline variables and are left to
the service. Fields the pipeline service rejects fail here, when the step is built.
"""

import json
from functools import cache
from pathlib import Path
from typing import Any, Dict, FrozenSet, Sequence

_SHAPES = Path(__file__).resolve().parent.parent / "data" / "step_argument_shapes.json"


@cache
def _operation_members() -> Dict[str, Any]:
    """The shipped input shapes, read once."""
    return json.loads(_SHAPES.read_text())


@cache
def _allowed_top_level_keys(operation: str, pascal_case: bool) -> FrozenSet[str]:
    members = _operation_members()[operation]
    if pascal_case:  # Bedrock's API members are camelCase; pipeline Arguments are PascalCase
        members = [m[0].upper() + m[1:] for m in members]
    return frozenset(members)


def validate_step_arguments(
    step_class_name: str,
    arguments: Dict[str, Any],
    operation: str,
    unsupported_fields: Sequence[str] = (),
    pascal_case: bool = False,
) -> None:
    """Check the top-level keys of a step's ``arguments``.

    Args:
        step_class_name (str): The step class, for the messages.
        arguments (dict): The step's arguments.
        operation (str): ``service.Operation`` whose input shape lists the allowed keys.
        unsupported_fields (Sequence[str]): Keys of the shape that SageMaker Pipelines rejects.
        pascal_case (bool): Compare with the shape's members in PascalCase.

    Raises:
        ValueError: No arguments, an empty or non-dict value, non-string keys, an unsupported
            field, or a key outside the operation's input shape.
    """
    if arguments is None:
        raise ValueError(f"arguments is required for {step_class_name}.")
    if not isinstance(arguments, dict) or not arguments:
        raise ValueError(f"{step_class_name}: arguments must be a non-empty dict.")
    non_string_keys = [key for key in arguments if not isinstance(key, str)]
    if non_string_keys:
        raise ValueError(f"{step_class_name}: argument keys must be strings; got {non_string_keys!r}.")
    rejected = sorted(field for field in unsupported_fields if field in arguments)
    if rejected:
        raise ValueError(
            f"{step_class_name}: field(s) {rejected} are not supported by SageMaker Pipelines and would be "
            "rejected at pipeline creation time. Remove them from arguments."
        )
    allowed = _allowed_top_level_keys(operation, pascal_case)
    unknown = sorted(set(arguments) - allowed)
    if unknown:
        raise ValueError(
            f"{step_class_name}: unknown argument field(s) {unknown}. "
            f"Allowed top-level fields (from {operation}): {sorted(allowed)}."
        )


def arguments_from(step_class_name: str, step_args, arguments, expected_caller: str) -> Dict[str, Any]:
    """The step's arguments: ``arguments=`` (a dict), or ``step_args`` captured by a
    PipelineSession call named ``expected_caller`` (or given as a dict)."""
    from sagepipe.workflow.pipeline_context import _StepArguments

    if step_args is not None and arguments is not None:
        raise ValueError(f"{step_class_name}: give either step_args or arguments, not both.")
    if isinstance(step_args, _StepArguments):
        if step_args.caller_name != expected_caller:
            raise ValueError(
                f"The step_args of {step_class_name} must be obtained from pipeline_session.{expected_caller}()."
            )
        # Only a create_* request captured by a PipelineSession (a _JobStepArguments) has this caller.
        return step_args.args  # type: ignore[attr-defined]
    return step_args if step_args is not None else arguments
