"""A catalogue of invalid pipeline definitions and start requests.

Every row states the typed error expected, the problem ``type`` (``err.errors()[i]["type"]``), the
culprit that must be named (in the problem's ``msg`` or ``loc``) and, where a close name exists,
the "did you mean" suggestion. Add rows to ``DEFINITION_CASES`` / ``START_CASES`` to grow it.

No error may ever surface as a ``pyo3_runtime.PanicException`` (a ``BaseException``): every call
goes through ``_raised``, which catches ``BaseException`` and checks the class first.
"""

import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

import pytest
import store_lib
from sagepipe import _core
from sagepipe.exceptions import (
    DefinitionError,
    ParameterError,
    SagePipeError,
    UnsupportedStepError,
    ValidationError,
)
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession

FIXTURES = Path(__file__).parent / "fixtures" / "definitions"
BASE: Dict[str, Any] = json.loads((FIXTURES / "minimal_processing_training_condition_fail.json").read_text())
# Steps of BASE: 0 Prep (Processing, PropertyFile "Metrics" on output "metrics"),
# 1 Train (Training, reads Prep's "train" output, one RetryPolicy), 2 CheckLoss (Condition,
# DependsOn Train, JsonGet on Prep's Metrics vs Parameters.MaxLoss; ElseSteps: Fail LossTooHigh).
# Parameters: MaxLoss (Float 0.5), RawData (String).


# --------------------------------------------------------------------------------------------
# helpers


def _is_panic(exc: BaseException) -> bool:
    cls = type(exc)
    return cls.__name__ == "PanicException" or "pyo3" in (cls.__module__ or "")


def _raised(fn: Callable[[], Any]) -> Optional[BaseException]:
    """Run ``fn``; return what it raised (None if nothing). Fails on a Rust panic."""
    try:
        fn()
    except BaseException as exc:  # noqa: BLE001 - we must see panics, which are BaseExceptions
        assert not _is_panic(exc), f"a Rust panic escaped: {type(exc).__module__}.{type(exc).__name__}: {exc}"
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return exc
    return None


def _expect(cls: type, fn: Callable[[], Any]) -> BaseException:
    exc = _raised(fn)
    assert exc is not None, f"expected {cls.__name__}, nothing was raised"
    assert isinstance(exc, cls), f"expected {cls.__name__}, got {type(exc).__name__}: {exc}"
    assert isinstance(exc, SagePipeError)
    return exc


def _compile(text: str, name: str = "catalogue") -> Any:
    return _core.compile_definition(text, name)


def _mutated(fn: Callable[[Dict[str, Any]], Any]) -> str:
    d = copy.deepcopy(BASE)
    fn(d)
    return json.dumps(d)


def _step(d: Dict[str, Any], name: str) -> Dict[str, Any]:
    for s in d["Steps"]:
        if s["Name"] == name:
            return s
    raise KeyError(name)


def _cond(d: Dict[str, Any]) -> Dict[str, Any]:
    return _step(d, "CheckLoss")["Arguments"]["Conditions"][0]


def _set_conditions(conditions: Any) -> Callable[[Dict[str, Any]], None]:
    def fn(d):
        _step(d, "CheckLoss")["Arguments"]["Conditions"] = conditions

    return fn


def _set_train_arg(value: Any) -> Callable[[Dict[str, Any]], None]:
    def fn(d):
        _step(d, "Train")["Arguments"]["Extra"] = value

    return fn


def _retry(**fields) -> Callable[[Dict[str, Any]], None]:
    def fn(d):
        _step(d, "Train")["RetryPolicies"][0].update(fields)

    return fn


def _problem_text(p: Dict[str, Any]) -> str:
    return p["msg"] + " " + " ".join(p["loc"])


# --------------------------------------------------------------------------------------------
# 1. compile_definition catalogue


@dataclass
class Case:
    id: str
    definition: Union[str, Callable[[Dict[str, Any]], Any]]  # raw text, or a mutation of BASE
    kinds: Sequence[str]  # every one must be reported
    culprit: str  # named in msg or loc of a problem of kinds[0]
    suggestion: Optional[str] = None  # "did you mean '<suggestion>'" in that problem's msg
    loc_contains: Tuple[str, ...] = ()  # these parts appear in that problem's loc
    xfail: Optional[str] = None  # known engine bug (see report); strict, so a fix flips it

    def text(self) -> str:
        return self.definition if isinstance(self.definition, str) else _mutated(self.definition)


DEFINITION_CASES = [
    # --- JSON and shape -----------------------------------------------------------------------
    Case("truncated_json", '{"Steps": [', ["malformed_json"], "line 1"),
    Case("empty_text", "", ["malformed_json"], "not valid JSON"),
    Case("trailing_garbage", '{"Steps": []} x', ["malformed_json"], "trailing"),
    Case("raw_control_char", '{"Steps":[{"Name":"a\x00b","Type":"Fail"}]}', ["malformed_json"], "control character"),
    Case("top_level_list", "[]", ["invalid_shape"], "a list"),
    Case("top_level_null", "null", ["invalid_shape"], "null"),
    Case("steps_object", lambda d: d.update(Steps={}), ["invalid_shape"], "Steps"),
    Case("steps_null", '{"Steps": null}', ["invalid_shape"], "Steps"),
    Case("parameters_not_list", '{"Parameters": {"A": 1}}', ["invalid_shape"], "Parameters"),
    Case(
        "parameter_bad_type",
        lambda d: d["Parameters"][0].update(Type="Double"),
        ["invalid_shape"],
        "MaxLoss",
        loc_contains=("Parameters",),
    ),
    Case("step_missing_type", lambda d: _step(d, "Train").pop("Type"), ["invalid_shape"], "Train"),
    Case("step_is_a_list", '{"Steps": [[1]]}', ["invalid_shape"], "Steps"),
    Case(
        "branch_not_list",
        lambda d: _step(d, "CheckLoss")["Arguments"].update(ElseSteps="x"),
        ["invalid_shape"],
        "ElseSteps",
        loc_contains=("CheckLoss",),
    ),
    Case("step_empty_type", lambda d: _step(d, "Train").update(Type=""), ["missing_step_type"], "Train"),
    Case("unsupported_version", lambda d: d.update(Version="2021-01-01"), ["unsupported_version"], "2021-01-01"),
    # --- names ----------------------------------------------------------------------------------
    Case("duplicate_step", lambda d: _step(d, "Train").update(Name="Prep"), ["duplicate_step_name"], "Prep"),
    Case(
        "duplicate_step_in_branch",
        lambda d: _step(d, "CheckLoss")["Arguments"]["ElseSteps"][0].update(Name="Train"),
        ["duplicate_step_name"],
        "Train",
        loc_contains=("ElseSteps",),
    ),
    Case(
        "invalid_step_name_space",
        lambda d: d["Steps"].append({"Name": "Pre p", "Type": "Fail"}),
        ["invalid_step_name"],
        "Pre p",
    ),
    Case(
        "invalid_step_name_65",
        lambda d: d["Steps"].append({"Name": "x" * 65, "Type": "Fail"}),
        ["invalid_step_name"],
        "x" * 65,
    ),
    Case(
        "duplicate_parameter",
        lambda d: d["Parameters"].append({"Name": "MaxLoss", "Type": "Float"}),
        ["duplicate_parameter"],
        "MaxLoss",
    ),
    Case(
        "invalid_parameter_name",
        lambda d: d["Parameters"].append({"Name": "Max Loss", "Type": "Float"}),
        ["invalid_parameter_name"],
        "Max Loss",
    ),
    # --- parameters -----------------------------------------------------------------------------
    Case(
        "default_wrong_type",
        lambda d: d["Parameters"][0].update(DefaultValue="abc"),
        ["invalid_default_value"],
        "MaxLoss",
    ),
    Case(
        "default_not_in_enum",
        lambda d: d["Parameters"][0].update(EnumValues=[0.1, 0.2]),
        ["invalid_default_value"],
        "MaxLoss",
    ),
    Case(
        "enum_value_wrong_type",
        lambda d: d["Parameters"][0].update(EnumValues=[0.5, "x"]),
        ["invalid_enum_value"],
        "MaxLoss",
    ),
    Case(
        "integer_default_float",
        lambda d: d["Parameters"].append({"Name": "N", "Type": "Integer", "DefaultValue": 1.5}),
        ["invalid_default_value"],
        "N",
    ),
    # --- references -----------------------------------------------------------------------------
    Case(
        "depends_on_unknown",
        lambda d: _step(d, "Train").update(DependsOn=["Prepp"]),
        ["unknown_step"],
        "Prepp",
        suggestion="Prep",
        loc_contains=("Train", "DependsOn"),
    ),
    Case(
        "get_unknown_step",
        _set_train_arg({"Get": "Steps.Trian.ModelArtifacts.S3ModelArtifacts"}),
        ["unknown_step"],
        "Trian",
        suggestion="Train",
    ),
    Case(
        "unknown_parameter",
        lambda d: _step(d, "Prep")["Arguments"]["AppSpecification"]["ContainerArguments"].__setitem__(
            1, {"Get": "Parameters.RawDat"}
        ),
        ["unknown_parameter"],
        "RawDat",
        suggestion="RawData",
        loc_contains=("Prep", "ContainerArguments"),
    ),
    Case(
        "unknown_parameter_in_condition",
        lambda d: _cond(d).update(RightValue={"Get": "Parameters.MaxLos"}),
        ["unknown_parameter"],
        "MaxLos",
        suggestion="MaxLoss",
        loc_contains=("CheckLoss",),
    ),
    Case(
        "unknown_execution_variable",
        _set_train_arg({"Get": "Execution.PipelineExecutionID"}),
        ["unknown_execution_variable"],
        "PipelineExecutionID",
        suggestion="PipelineExecutionId",
    ),
    Case("invalid_reference_root", _set_train_arg({"Get": "Bogus.x"}), ["invalid_reference"], "Bogus.x"),
    Case("invalid_reference_path", _set_train_arg({"Get": "Steps.Prep.Outputs[abc]"}), ["invalid_reference"], "[abc]"),
    Case(
        "invalid_experiment_field",
        _set_train_arg({"Get": "PipelineExperimentConfig.Trial"}),
        ["invalid_reference"],
        "Trial",
    ),
    Case("self_dependency", lambda d: _step(d, "Train").update(DependsOn=["Train"]), ["self_dependency"], "Train"),
    Case(
        "self_reference",
        _set_train_arg({"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}),
        ["self_dependency"],
        "Train",
    ),
    Case("cycle", lambda d: _step(d, "Prep").update(DependsOn=["CheckLoss"]), ["cycle"], "Prep"),
    Case(
        "depends_on_fail_step",
        lambda d: d["Steps"].append({"Name": "After", "Type": "Fail", "DependsOn": ["LossTooHigh"]}),
        ["depends_on_fail_step"],
        "LossTooHigh",
        loc_contains=("After", "DependsOn"),
    ),
    Case(
        "reference_to_fail_step",
        _set_train_arg({"Get": "Steps.LossTooHigh.Foo"}),
        ["depends_on_fail_step"],
        "LossTooHigh",
    ),
    # --- property files -------------------------------------------------------------------------
    Case(
        "unknown_property_file",
        lambda d: _cond(d)["LeftValue"]["Std:JsonGet"]["PropertyFile"].update(Get="Steps.Prep.PropertyFiles.Metric"),
        ["unknown_property_file"],
        "Metric",
        suggestion="Metrics",
    ),
    Case(
        "property_file_on_step_without_any",
        lambda d: _cond(d)["LeftValue"]["Std:JsonGet"]["PropertyFile"].update(Get="Steps.Train.PropertyFiles.Metrics"),
        ["unknown_property_file"],
        "Train",
    ),
    Case(
        "property_file_unknown_output",
        lambda d: _step(d, "Prep")["PropertyFiles"][0].update(OutputName="metric"),
        ["unknown_output"],
        "metric",
        suggestion="metrics",
        loc_contains=("Prep", "PropertyFiles"),
    ),
    Case(
        "property_file_on_training_step",
        lambda d: (
            _step(d, "Train").update(
                PropertyFiles=[{"PropertyFileName": "Eval", "OutputName": "o", "FilePath": "e.json"}]
            ),
            _cond(d)["LeftValue"]["Std:JsonGet"]["PropertyFile"].update(Get="Steps.Train.PropertyFiles.Eval"),
        ),
        ["invalid_property_file"],
        "Eval",
    ),
    # --- retry / cache --------------------------------------------------------------------------
    Case(
        "retry_max_attempts_zero",
        _retry(MaxAttempts=0),
        ["invalid_retry_policy"],
        "MaxAttempts",
        loc_contains=("Train", "RetryPolicies"),
    ),
    Case("retry_max_attempts_21", _retry(MaxAttempts=21), ["invalid_retry_policy"], "21"),
    Case("retry_expire_after_min", _retry(ExpireAfterMin=14401), ["invalid_retry_policy"], "ExpireAfterMin"),
    Case("retry_negative_backoff", _retry(BackoffRate=-1), ["invalid_retry_policy"], "BackoffRate"),
    Case(
        "retry_unknown_exception_type",
        _retry(ExceptionType=["Step.SERVICE_FAULTS"]),
        ["invalid_retry_policy"],
        "Step.SERVICE_FAULTS",
        suggestion="Step.SERVICE_FAULT",
    ),
    Case(
        "cache_bad_duration",
        lambda d: _step(d, "Prep")["CacheConfig"].update(ExpireAfter="12 hours"),
        ["invalid_cache_config"],
        "12 hours",
        loc_contains=("Prep", "CacheConfig"),
    ),
    # --- conditions -----------------------------------------------------------------------------
    Case(
        "condition_unknown_type",
        lambda d: _cond(d).update(Type="Equal"),
        ["invalid_condition"],
        "Equal",
        suggestion="Equals",
    ),
    Case("condition_missing_right", lambda d: _cond(d).pop("RightValue"), ["invalid_condition"], "RightValue"),
    Case("conditions_not_list", _set_conditions({"Type": "Equals"}), ["invalid_condition"], "list"),
    Case(
        "condition_or_without_list", _set_conditions([{"Type": "Or", "Conditions": "x"}]), ["invalid_condition"], "Or"
    ),
    Case(
        "condition_in_without_values",
        _set_conditions([{"Type": "In", "QueryValue": 1, "Values": 1}]),
        ["invalid_condition"],
        "In",
    ),
    Case(
        "condition_not_nested_unknown",
        _set_conditions([{"Type": "Not", "Condition": {"Type": "Nope"}}]),
        ["invalid_condition"],
        "Nope",
        loc_contains=("Condition",),
    ),
    # --- regressions: each was a bug found by this catalogue and fixed -------------------------------
    Case(
        "condition_arguments_not_object",
        '{"Steps":[{"Name":"C","Type":"Condition","Arguments":"x"}]}',
        ["invalid_condition"],
        "C",
    ),
    Case(
        "jsonget_property_file_as_string",
        lambda d: _cond(d)["LeftValue"]["Std:JsonGet"].update(PropertyFile="Metrics"),
        ["invalid_reference"],
        "Metrics",
    ),
    Case(
        "shape_error_names_field", lambda d: _step(d, "Train").update(DependsOn="Prep"), ["invalid_shape"], "DependsOn"
    ),
]


def _params(cases):
    return [
        pytest.param(c, id=c.id, marks=pytest.mark.xfail(strict=True, reason=c.xfail) if c.xfail else ()) for c in cases
    ]


def test_catalogue_is_large_enough():
    assert len(DEFINITION_CASES) + len(START_CASES) >= 30
    assert len({c.id for c in DEFINITION_CASES}) == len(DEFINITION_CASES)


def test_base_fixture_compiles():
    assert _raised(lambda: _compile(json.dumps(BASE))) is None


@pytest.mark.parametrize("case", _params(DEFINITION_CASES))
def test_definition_catalogue(case: Case):
    exc = _expect(DefinitionError, lambda: _compile(case.text(), "catalogue"))
    assert isinstance(exc, ValueError)
    errors = exc.errors()
    assert errors and exc.error_count() == len(errors)
    kinds = [e["type"] for e in errors]
    for kind in case.kinds:
        assert kind in kinds, f"{kind} not reported; got {errors}"
    main = [e for e in errors if e["type"] == case.kinds[0]]
    named = [e for e in main if case.culprit in _problem_text(e)]
    assert named, f"no {case.kinds[0]} problem names {case.culprit!r}: {main}"
    problem = named[0]
    assert isinstance(problem["loc"], tuple) and all(isinstance(p, str) for p in problem["loc"])
    for part in case.loc_contains:
        assert part in problem["loc"], f"{part!r} not in loc {problem['loc']}"
    if case.suggestion is not None:
        assert f"did you mean '{case.suggestion}'" in problem["msg"], problem["msg"]
    # The rendered message carries the pipeline name and every problem.
    text = str(exc)
    assert "catalogue" in text
    assert text.startswith(f"{len(errors)} problem")


def test_many_problems_are_reported_together():
    def mutate(d):
        d["Version"] = "1999-01-01"
        d["Parameters"][0]["DefaultValue"] = "high"
        d["Parameters"].append({"Name": "RawData", "Type": "String"})
        _step(d, "Train")["DependsOn"] = ["Prepp", "Train"]
        _step(d, "Train")["RetryPolicies"][0]["MaxAttempts"] = 0
        _step(d, "Prep")["CacheConfig"]["ExpireAfter"] = "soon"
        _cond(d)["Type"] = "LessThanOrEqual"
        d["Steps"].append({"Name": "Prep", "Type": "Fail"})
        d["Steps"].append(
            {"Name": "bad name", "Type": "Fail", "Arguments": {"ErrorMessage": {"Get": "Parameters.MaxLos"}}}
        )

    exc = _expect(DefinitionError, lambda: _compile(_mutated(mutate)))
    kinds = {e["type"] for e in exc.errors()}
    expected = {
        "unsupported_version",
        "invalid_default_value",
        "duplicate_parameter",
        "unknown_step",
        "self_dependency",
        "invalid_retry_policy",
        "invalid_cache_config",
        "invalid_condition",
        "duplicate_step_name",
        "invalid_step_name",
        "unknown_parameter",
    }
    assert expected <= kinds, f"missing {expected - kinds}"
    assert exc.error_count() >= len(expected)
    text = str(exc)
    for culprit in ("Prepp", "MaxLos", "bad name", "LessThanOrEqual", "soon", "RawData"):
        assert culprit in text
    assert "did you mean 'Prep'" in text and "did you mean 'MaxLoss'" in text


def test_several_broken_steps_are_all_reported():
    text = json.dumps(
        {
            "Steps": [
                {"Name": "A"},
                {"Type": "Fail"},
                {"Name": "C", "Type": "Fail", "DependsOn": "A"},
                {"Name": "D", "Type": "Fail"},
            ]
        }
    )
    exc = _expect(DefinitionError, lambda: _compile(text))
    shape = [e for e in exc.errors() if e["type"] == "invalid_shape"]
    assert len(shape) == 3, exc.errors()
    assert any("A" in e["loc"] for e in shape) and any("C" in e["loc"] for e in shape)


def test_unknown_step_type_compiles():
    def mutate(d):
        d["Steps"].append({"Name": "Frob", "Type": "Frobnicate", "Arguments": {}})

    assert _raised(lambda: _compile(_mutated(mutate))) is None


# --------------------------------------------------------------------------------------------
# 2. start-time errors through the public API


def _condition_definition(parameters, conditions, extra_steps=()) -> Dict[str, Any]:
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": parameters,
        "PipelineExperimentConfig": None,
        "Steps": [
            {
                "Name": "Check",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": conditions,
                    "IfSteps": [],
                    "ElseSteps": [{"Name": "Stop", "Type": "Fail", "Arguments": {"ErrorMessage": "condition false"}}],
                },
            },
            *extra_steps,
        ],
    }


TYPED_PARAMETERS = [
    {"Name": "Count", "Type": "Integer", "DefaultValue": 5},
    {"Name": "Rate", "Type": "Float", "DefaultValue": 0.5},
    {"Name": "Flag", "Type": "Boolean", "DefaultValue": True},
    {"Name": "Mode", "Type": "String", "DefaultValue": "fast", "EnumValues": ["fast", "slow"]},
    {"Name": "Region", "Type": "String"},  # required: no default
]
TYPED_CONDITIONS = [
    {"Type": "GreaterThan", "LeftValue": {"Get": "Parameters.Count"}, "RightValue": 3},
    {"Type": "LessThan", "LeftValue": {"Get": "Parameters.Rate"}, "RightValue": 1.0},
    {"Type": "Equals", "LeftValue": {"Get": "Parameters.Flag"}, "RightValue": True},
]


def _pipeline(tmp_path: Path, definition: Dict[str, Any], name: str = "catalogue") -> Pipeline:
    session = PipelineSession(store=tmp_path / "store")
    return Pipeline.from_definition(json.dumps(definition), name=name, sagemaker_session=session)


@dataclass
class StartCase:
    id: str
    parameters: Dict[str, Any]
    problems: Sequence[Tuple[str, str]]  # (type, culprit) pairs, all expected together
    suggestion: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)


START_CASES = [
    StartCase("unknown_parameter", {"Region": "x", "Cuont": 1}, [("unknown_parameter", "Cuont")], "Count"),
    StartCase("unknown_parameter_far", {"Region": "x", "zzz": 1}, [("unknown_parameter", "zzz")]),
    StartCase("integer_from_letters", {"Region": "x", "Count": "abc"}, [("invalid_parameter_value", "Count")]),
    StartCase("integer_from_fraction", {"Region": "x", "Count": 1.5}, [("invalid_parameter_value", "Count")]),
    StartCase("integer_from_bool", {"Region": "x", "Count": True}, [("invalid_parameter_value", "Count")]),
    StartCase("float_from_letters", {"Region": "x", "Rate": "fast"}, [("invalid_parameter_value", "Rate")]),
    StartCase("boolean_from_number", {"Region": "x", "Flag": 1}, [("invalid_parameter_value", "Flag")]),
    StartCase("boolean_from_word", {"Region": "x", "Flag": "yes"}, [("invalid_parameter_value", "Flag")]),
    StartCase("string_from_number", {"Region": 5}, [("invalid_parameter_value", "Region")]),
    StartCase("outside_enum", {"Region": "x", "Mode": "medium"}, [("invalid_parameter_value", "medium")]),
    StartCase("missing_required", {}, [("missing_parameter", "Region")]),
    StartCase("hostile_parameter_name", {"Region": "x", "../a\x00b/é": 1}, [("unknown_parameter", "../a\x00b/é")]),
    StartCase(
        "all_at_once",
        {"Cuont": 1, "Count": "abc", "Mode": "medium", "Flag": "maybe"},
        [
            ("unknown_parameter", "Cuont"),
            ("invalid_parameter_value", "Count"),
            ("invalid_parameter_value", "medium"),
            ("invalid_parameter_value", "Flag"),
            ("missing_parameter", "Region"),
        ],
        "Count",
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in START_CASES])
def test_start_parameter_catalogue(tmp_path, case: StartCase):
    pipeline = _pipeline(tmp_path, _condition_definition(TYPED_PARAMETERS, TYPED_CONDITIONS))
    exc = _expect(ParameterError, lambda: pipeline.start(parameters=case.parameters))
    assert isinstance(exc, ValueError)
    errors = exc.errors()
    assert len(errors) == len(case.problems), errors
    for kind, culprit in case.problems:
        assert any(e["type"] == kind and culprit in _problem_text(e) for e in errors), (kind, culprit, errors)
        assert culprit in str(exc)
    if case.suggestion:
        assert f"did you mean '{case.suggestion}'" in str(exc)
    # Nothing started.
    assert pipeline.list_executions()["PipelineExecutionSummaries"] == []


@pytest.mark.parametrize(
    "parameters, status",
    [
        ({"Region": "x", "Count": "5", "Rate": "0.5", "Flag": "true"}, "Succeeded"),
        ({"Region": "x", "Count": " 7 ", "Rate": "0.25", "Flag": "True"}, "Succeeded"),
        ({"Region": "x", "Count": "2", "Rate": "0.5", "Flag": "true"}, "Failed"),
        ({"Region": "x", "Count": "5", "Rate": "1.5", "Flag": "true"}, "Failed"),
        ({"Region": "x", "Count": "5", "Rate": "0.5", "Flag": "false"}, "Failed"),
        ({"Region": "x", "Count": 5.0, "Rate": 0, "Flag": True}, "Succeeded"),
    ],
    ids=[
        "strings-true",
        "strings-spaced",
        "int-string-false",
        "float-string-false",
        "bool-string-false",
        "integral-float-and-int",
    ],
)
def test_string_values_are_accepted_like_the_service(tmp_path, parameters, status):
    pipeline = _pipeline(tmp_path, _condition_definition(TYPED_PARAMETERS, TYPED_CONDITIONS))
    ex = pipeline.start(parameters=parameters)
    ex.wait(delay=1, max_attempts=60)
    assert ex.describe()["PipelineExecutionStatus"] == status
    steps = {s["StepName"]: s["StepStatus"] for s in ex.list_steps()}
    assert steps["Check"] == "Succeeded"
    if status == "Failed":
        assert steps["Stop"] == "Failed"
    else:
        assert "Stop" not in steps


@pytest.mark.parametrize(
    "steps, culprits",
    [
        (
            [
                {
                    "Name": "MyLambda",
                    "Type": "Lambda",
                    "Arguments": {},
                    "FunctionArn": "arn:aws:lambda:us-east-1:1:function:f",
                }
            ],
            ["MyLambda"],
        ),
        ([{"Name": "Cluster", "Type": "EMR", "Arguments": {}}], ["Cluster"]),
        ([{"Name": "Frob", "Type": "Frobnicate", "Arguments": {}}], ["Frob", "Frobnicate"]),
        (
            [
                {"Name": "Cluster", "Type": "EMR", "Arguments": {}},
                {"Name": "Frob", "Type": "Frobnicate", "Arguments": {}},
            ],
            ["Cluster", "Frob"],
        ),
    ],
    ids=["lambda", "emr", "unknown-type", "two-at-once"],
)
def test_unsupported_steps_fail_at_start(tmp_path, steps, culprits):
    definition = _condition_definition(TYPED_PARAMETERS, TYPED_CONDITIONS, steps)
    # Compiles fine (an unknown type is not a definition error) ...
    assert _raised(lambda: _compile(json.dumps(definition))) is None
    pipeline = _pipeline(tmp_path, definition)
    # ... and fails at start, before anything runs, naming every step.
    exc = _expect(UnsupportedStepError, lambda: pipeline.start(parameters={"Region": "x"}))
    assert isinstance(exc, NotImplementedError)
    assert len(exc.errors()) == len(steps)
    assert all(e["type"] == "unsupported_step" for e in exc.errors())
    for culprit in culprits:
        assert culprit in str(exc)
    assert pipeline.list_executions()["PipelineExecutionSummaries"] == []


# --------------------------------------------------------------------------------------------
# 3. hostile input

HOSTILE_NAMES = {
    "slash": "a/b",
    "dotdot": "..",
    "dotdot-slash": "../../etc",
    "nul": "a\x00b",
    "long": "x" * 10_000,
    "non-ascii": "Ünïcödé",
    "emoji": "step🚀",
    "empty": "",
    "newline": "a\nb",
}


@pytest.mark.parametrize("name", list(HOSTILE_NAMES.values()), ids=list(HOSTILE_NAMES))
def test_hostile_step_names(name):
    text = json.dumps({"Version": "2020-12-01", "Steps": [{"Name": name, "Type": "Fail"}]})
    exc = _expect(DefinitionError, lambda: _compile(text))
    errors = exc.errors()
    assert [e["type"] for e in errors] == ["invalid_step_name"]
    assert name in errors[0]["loc"]
    assert len(errors[0]["msg"]) < 300  # long names are shortened in the message


@pytest.mark.parametrize("name", list(HOSTILE_NAMES.values()), ids=list(HOSTILE_NAMES))
def test_hostile_names_in_references(name):
    text = json.dumps(
        {
            "Version": "2020-12-01",
            "Parameters": [{"Name": "Good", "Type": "String", "DefaultValue": "x"}],
            "Steps": [
                {
                    "Name": "A",
                    "Type": "Fail",
                    "DependsOn": [name],
                    "Arguments": {"ErrorMessage": {"Get": f"Parameters.{name}"}},
                },
            ],
        }
    )
    exc = _expect(DefinitionError, lambda: _compile(text))
    kinds = {e["type"] for e in exc.errors()}
    assert "unknown_step" in kinds
    if name:  # "Parameters." with nothing after it is not a reference at all
        assert "unknown_parameter" in kinds
    else:
        assert "invalid_reference" in kinds
    for e in exc.errors():
        assert len(e["msg"]) < 500


@pytest.mark.parametrize("name", list(HOSTILE_NAMES.values()), ids=list(HOSTILE_NAMES))
def test_hostile_parameter_names(name):
    text = json.dumps({"Version": "2020-12-01", "Parameters": [{"Name": name, "Type": "String"}], "Steps": []})
    exc = _expect(DefinitionError, lambda: _compile(text))
    errors = exc.errors()
    assert [e["type"] for e in errors] == ["invalid_parameter_name"]
    assert name in errors[0]["loc"]


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"Steps":' + "[" * 10_000 + "]" * 10_000 + "}",
        '{"Steps":[{"Name":"A","Type":"Fail","Arguments":' + '{"a":' * 10_000 + "1" + "}" * 10_000 + "}]}",
        "[" * 10_000,  # deep and unterminated
    ],
    ids=["deep-list", "deep-steps", "deep-arguments", "deep-unterminated"],
)
def test_deeply_nested_json_is_a_definition_error(tmp_path, text):
    exc = _expect(DefinitionError, lambda: _compile(text))
    assert exc.errors()[0]["type"] == "malformed_json"
    exc = _expect(
        DefinitionError,
        lambda: Pipeline.from_definition(
            text, name="deep", sagemaker_session=PipelineSession(store=tmp_path / "store")
        ),
    )
    assert exc.errors()[0]["type"] == "malformed_json"


def _fail(name, depends_on=()):
    return {"Name": name, "Type": "Fail", "DependsOn": list(depends_on), "Arguments": {"ErrorMessage": name}}


def _true_condition(name, depends_on=()):
    return {
        "Name": name,
        "Type": "Condition",
        "DependsOn": list(depends_on),
        "Arguments": {
            "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
            "IfSteps": [],
            "ElseSteps": [],
        },
    }


def test_ten_thousand_steps_compile_quickly():
    steps = [_true_condition(f"S{i}", [f"S{i - 1}"] if i % 2 else []) for i in range(10_000)]
    text = json.dumps({"Version": "2020-12-01", "Steps": steps})
    t = time.monotonic()
    assert _raised(lambda: _compile(text)) is None
    assert time.monotonic() - t < 10


def test_thousand_deep_chain_compiles_and_runs(tmp_path):
    steps = [_true_condition(f"S{i}", [f"S{i - 1}"] if i else []) for i in range(1_000)]
    definition = {"Version": "2020-12-01", "Steps": steps}
    assert _raised(lambda: _compile(json.dumps(definition))) is None
    ex = _pipeline(tmp_path, definition, name="chain").start()
    ex.wait(delay=1, max_attempts=120)
    assert ex.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert len(ex.list_steps()) == 1_000


def test_thousand_deep_data_chain_compiles():
    steps = [{"Name": "S0", "Type": "Training", "Arguments": {}}]
    steps += [
        {
            "Name": f"S{i}",
            "Type": "Training",
            "Arguments": {"In": {"Get": f"Steps.S{i - 1}.ModelArtifacts.S3ModelArtifacts"}},
        }
        for i in range(1, 1_000)
    ]
    assert _raised(lambda: _compile(json.dumps({"Version": "2020-12-01", "Steps": steps}))) is None


def test_ten_thousand_step_cycle_is_reported():
    steps = [_fail(f"S{i}", [f"S{(i + 1) % 10_000}"]) for i in range(10_000)]
    exc = _expect(DefinitionError, lambda: _compile(json.dumps({"Steps": steps})))
    assert "cycle" in {e["type"] for e in exc.errors()}


BAD_PIPELINE_NAMES = {
    "parent": "../evil",
    "deep-parent": "../../evil",
    "slash": "a/b",
    "dot": ".",
    "dotdot": "..",
    "nul": "a\x00b",
    "non-ascii": "pïpe",
    "long": "p" * 10_000,
    "empty-ish": "-",
    "leading-dash": "-abc",
}


@pytest.mark.parametrize("name", list(BAD_PIPELINE_NAMES.values()), ids=list(BAD_PIPELINE_NAMES))
def test_bad_pipeline_names_are_refused_and_write_nothing(tmp_path, name):
    store = tmp_path / "store"
    definition = _condition_definition([], [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}])
    exc = _raised(
        lambda: Pipeline.from_definition(
            json.dumps(definition), name=name, sagemaker_session=PipelineSession(store=store)
        ).start()
    )
    assert exc is not None
    assert isinstance(exc, (ValidationError, DefinitionError)), f"{type(exc).__name__}: {exc}"
    assert len(str(exc)) < 1_000
    # The store may be made (its directory, an empty database), but no record and no other file.
    made = (p for p in tmp_path.rglob("*") if not store_lib.is_database_file(p.name))
    written = sorted(str(p.relative_to(tmp_path)) for p in made)
    assert written in ([], ["store"], ["store", "store/pipelines"]), written
    assert store_lib.record_paths(store) == []
    assert not (tmp_path / "evil").exists() and not (tmp_path.parent / "evil").exists()


def test_longest_valid_pipeline_name(tmp_path):
    definition = _condition_definition([], [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}])
    pipeline = _pipeline(tmp_path, definition, name="p" * 256)
    exc = _raised(lambda: pipeline.start().wait(delay=1))
    assert exc is None or isinstance(exc, ValidationError), f"{type(exc).__name__}: {exc}"


def test_lone_surrogate_is_a_definition_error():
    _expect(DefinitionError, lambda: _compile('{"Steps":[{"Name":"\ud800","Type":"Fail"}]}'))
