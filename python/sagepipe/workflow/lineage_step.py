"""LineageStep (mirror of ``sagemaker.workflow.lineage_step``).

Records lineage entities (actions, artifacts, contexts) and their associations. sagepipe has no
lineage service: running the step fails before the execution starts unless a handler is
registered for the ``Lineage`` type or the step is left out of a selective run.
"""

from typing import Any, Dict, List, Optional, Union

from sagepipe.workflow.entities import RequestType
from sagepipe.workflow.properties import Properties
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.steps import Step, StepTypeEnum

_RECOGNIZED = ("Actions", "Artifacts", "Associations", "Contexts")


class LineageStep(Step):
    """Creates and associates lineage entities."""

    def __init__(
        self,
        name: str,
        arguments: Dict[str, Any],
        display_name: Optional[str] = None,
        description: Optional[str] = None,
        depends_on: Optional[List[Union[str, Step, StepCollection]]] = None,
    ):
        """Construct a ``LineageStep``.

        Args:
            name (str): The name of the step.
            arguments (dict): ``Actions``, ``Artifacts``, ``Contexts`` and/or ``Associations``:
                lists of entities shaped like the SageMaker lineage APIs (at least one key).
            display_name (str): Optional display name.
            description (str): Optional description.
            depends_on (List[Union[str, Step, StepCollection]]): Explicit dependencies.

        Raises:
            ValueError: No arguments, none of the recognized keys, or another key.
        """
        super().__init__(
            name=name,
            display_name=display_name,
            description=description,
            step_type=StepTypeEnum.LINEAGE,
            depends_on=depends_on,
        )
        if arguments is None:
            raise ValueError("arguments is required for LineageStep.")
        if not isinstance(arguments, dict) or not arguments:
            raise ValueError("LineageStep: arguments must be a non-empty dict.")
        if not set(_RECOGNIZED) & set(arguments):
            raise ValueError("LineageStep.arguments must contain at least one of: " + ", ".join(_RECOGNIZED))
        unknown = sorted(set(arguments) - set(_RECOGNIZED))
        if unknown:
            raise ValueError(
                f"LineageStep: unknown argument field(s) {unknown}. Allowed top-level fields: "
                + ", ".join(_RECOGNIZED)
                + "."
            )
        self._arguments = arguments
        root = Properties(step_name=name, step=self)
        for field in ("ActionArns", "ArtifactArns", "ContextArns", "Associations"):
            root.__dict__[field] = Properties(step_name=name, step=self, path=field)
        self._properties = root

    @property
    def arguments(self) -> RequestType:
        """The lineage entities and associations to record."""
        return self._arguments

    @property
    def properties(self):
        """``ActionArns``, ``ArtifactArns``, ``ContextArns`` and ``Associations``."""
        return self._properties
