"""``@step`` functions of a mirror-built pipeline, built again by the SageMaker SDK for deploying.

On SageMaker a ``@step`` job runs the SDK's job driver, which reads the function and its
arguments serialized the SDK's way (payload and metadata under ``--s3_base_uri``) and resolves
the SDK's placeholder objects in them. Only the SDK makes those, so ``sagepipe deploy`` of a
pipeline whose ``@step`` functions were built with sagepipe's mirror hands each function, its
settings and its arguments to the installed SDK (v2 or v3): the SDK builds the steps as it would
for the same code, uploading their payloads, dependencies and job driver to the target bucket,
and their definition replaces the mirror's. Arguments the SDK's placeholders cannot carry (another
step's properties, ``Join``, ``JsonGet``) and step settings it has no equivalent for are refused with
the definition's other problems, naming the step.
"""

import contextlib
import importlib
import json
import os
from typing import Any, Dict, Iterator, List

from sagepipe._core import LOCAL_ACCOUNT
from sagepipe.workflow.utilities import definition_steps

# SDK line -> where its names live.
_MODULES = {
    "2": {
        "step": "sagemaker.workflow.function_step",
        "Pipeline": "sagemaker.workflow.pipeline",
        "PipelineSession": "sagemaker.workflow.pipeline_context",
        "parameters": "sagemaker.workflow.parameters",
        "ExecutionVariable": "sagemaker.workflow.execution_variables",
    },
    "3": {
        "step": "sagemaker.mlops.workflow.function_step",
        "Pipeline": "sagemaker.mlops.workflow.pipeline",
        "PipelineSession": "sagemaker.core.workflow.pipeline_context",
        "parameters": "sagemaker.core.workflow.parameters",
        "ExecutionVariable": "sagemaker.core.workflow.execution_variables",
    },
}


def mirror_function_steps(pipeline) -> List[Any]:
    """The ``@step`` functions (``_FunctionStep``) a mirror pipeline object holds, found through
    its steps, ConditionSteps' branches and conditions, expressions (``JsonGet``, ``Join``) and
    functions' arguments."""
    from sagepipe.workflow.condition_step import ConditionStep
    from sagepipe.workflow.conditions import Condition
    from sagepipe.workflow.entities import PipelineVariable
    from sagepipe.workflow.function_step import DelayedReturn, _FunctionStep

    found: Dict[str, Any] = {}
    seen: Dict[int, Any] = {}  # by id, holding each object so no id is reused meanwhile

    def visit(value: Any) -> None:
        if id(value) in seen:
            return
        seen[id(value)] = value
        if isinstance(value, DelayedReturn):
            visit(value._step)
        elif isinstance(value, _FunctionStep):
            found.setdefault(value.name, value)
            visit([value.func_args, value.func_kwargs])
        elif isinstance(value, ConditionStep):
            visit([value.if_steps, value.else_steps, value.conditions])
        elif isinstance(value, (Condition, PipelineVariable)):
            visit(list(vars(value).values()))  # operands, expressions' parts
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            visit(list(value.values()))

    visit(list(getattr(pipeline, "steps", None) or []))
    return list(found.values())


@contextlib.contextmanager
def _default_region(region: str) -> Iterator[None]:
    """``AWS_DEFAULT_REGION`` is ``region`` inside, unless the environment names one already."""
    if os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION"):
        yield
        return
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        yield
    finally:
        os.environ.pop("AWS_DEFAULT_REGION", None)


def _sdk(name: str, line: str) -> Any:
    """The SDK's ``name`` (for ``parameters``, its module)."""
    module = importlib.import_module(_MODULES[line][name])
    return module if name == "parameters" else getattr(module, name)


class _Translator:
    """Mirror objects -> the SDK's, one SDK step per mirror step."""

    def __init__(self, line: str, role_arn: str, pipeline_name: str):
        self.line = line
        self.role_arn = role_arn
        self.pipeline_name = pipeline_name
        self.steps: Dict[str, Any] = {}  # name -> the SDK's DelayedReturn of the whole result
        self.parameters: Dict[str, Any] = {}
        self.problems: List[Dict[str, Any]] = []

    def problem(self, step: str, msg: str) -> None:
        self.problems.append({"kind": "deploy", "loc": ["Steps", step], "msg": f"step {step}: {msg}"})

    def value(self, step: str, value: Any, where: str) -> Any:
        from sagepipe.workflow.entities import PipelineVariable
        from sagepipe.workflow.execution_variables import ExecutionVariable
        from sagepipe.workflow.function_step import DelayedReturn
        from sagepipe.workflow.parameters import Parameter

        if isinstance(value, DelayedReturn):
            result = self.function(value._step)
            for _, key in value._reference_path:
                result = result[key]
            return result
        if isinstance(value, Parameter):
            return self.parameter(value)
        if isinstance(value, ExecutionVariable):
            return _sdk("ExecutionVariable", self.line)(value.name)
        if isinstance(value, PipelineVariable):
            self.problem(
                step,
                f"{where} is {type(value).__name__} {json.dumps(value.expr)[:120]}; the SageMaker SDK's @step "
                "arguments carry parameters, execution variables and other @step results only",
            )
            return None
        if isinstance(value, list):
            return [self.value(step, v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            return tuple(self.value(step, v, f"{where}[{i}]") for i, v in enumerate(value))
        if isinstance(value, dict):
            return {k: self.value(step, v, f"{where}[{k!r}]") for k, v in value.items()}
        return value

    def parameter(self, mirror) -> Any:
        if mirror.name not in self.parameters:
            module = _sdk("parameters", self.line)
            kind = type(mirror).__name__  # ParameterString, ParameterInteger, ...
            kwargs: Dict[str, Any] = {"name": mirror.name, "default_value": mirror.default_value}
            if getattr(mirror, "enum_values", None):
                kwargs["enum_values"] = mirror.enum_values
            self.parameters[mirror.name] = getattr(module, kind)(**kwargs)
        return self.parameters[mirror.name]

    def function(self, mirror) -> Any:
        """The SDK's DelayedReturn for the mirror's ``_FunctionStep``."""
        if mirror.name in self.steps:
            return self.steps[mirror.name]
        settings = {k: v for k, v in mirror._step_kwargs.items() if v is not None}
        if mirror.retry_policies:
            self.problem(mirror.name, "retry_policies of a @step are not carried to the SageMaker SDK yet")
        role = settings.get("role")
        if role is None or f":{LOCAL_ACCOUNT}:" in str(role):
            settings["role"] = self.role_arn  # the SDK would otherwise ask the environment for one
        decorator = _sdk("step", self.line)(
            name=mirror.name, display_name=mirror.display_name, description=mirror.description, **settings
        )
        args = self.value(mirror.name, tuple(mirror.func_args), "its arguments")
        kwargs = self.value(mirror.name, dict(mirror.func_kwargs), "its keyword arguments")
        result = decorator(mirror.func)(*args, **kwargs)
        self.steps[mirror.name] = result
        return result


class SdkSteps:
    """The SageMaker SDK's build of a mirror pipeline's ``@step`` functions: made without touching
    AWS, ``problems`` (what the SDK cannot be handed, with its step) reported by deploy with the
    definition's own; :meth:`definitions` then builds them, uploading what they need."""

    def __init__(self, pipeline, function_steps: List[Any], *, role_arn: str, region: str):
        """Raises ImportError when no SageMaker SDK is installed. ``region``: the deploy's (SDK v3
        makes boto3 clients while its modules are imported, which fails without one)."""
        from sagepipe import compat

        if not compat.real_sdk_installed():
            raise ImportError(
                "deploying @step functions built with sagepipe takes the SageMaker SDK, which serializes them "
                "for its job driver on SageMaker: pip install 'sagepipe[sdk-v2]' (or sdk-v3)"
            )
        from importlib.metadata import version

        self.line = "3" if version("sagemaker").split(".")[0] == "3" else "2"
        self.name = pipeline.name
        translator = _Translator(self.line, role_arn, pipeline.name)
        with _default_region(region):
            self.results = [translator.function(step) for step in function_steps]
        self.step_names = [step.name for step in function_steps]
        self.problems = translator.problems
        self.parameters = list(translator.parameters.values())

    def definitions(self, *, boto_session, bucket: str) -> Dict[str, Dict[str, Any]]:
        """Step name -> the step's definition as the SDK builds it; its payloads, dependencies and
        job driver are uploaded by the SDK under ``s3://<bucket>/<pipeline>/``."""
        session = _sdk("PipelineSession", self.line)(boto_session=boto_session, default_bucket=bucket)
        sdk_pipeline = _sdk("Pipeline", self.line)(
            name=self.name, parameters=self.parameters, steps=self.results, sagemaker_session=session
        )
        built = json.loads(sdk_pipeline.definition())
        names = set(self.step_names)
        return {step["Name"]: step for step in definition_steps(built.get("Steps")) if step["Name"] in names}


def replace_steps(definition: Dict[str, Any], replacements: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """``definition`` with each step named in ``replacements`` (at any depth) replaced."""

    def walk(steps: List[Any]) -> List[Any]:
        out = []
        for step in steps:
            if isinstance(step, dict) and step.get("Name") in replacements:
                out.append(replacements[step["Name"]])
                continue
            if isinstance(step, dict) and isinstance(step.get("Arguments"), dict):
                args = dict(step["Arguments"])
                for branch in ("IfSteps", "ElseSteps"):
                    if isinstance(args.get(branch), list):
                        args[branch] = walk(args[branch])
                step = dict(step, Arguments=args)
            out.append(step)
        return out

    return dict(definition, Steps=walk(list(definition.get("Steps") or [])))
