"""Tests of the pure definition-building layer (``sagepipe.workflow``), no execution.

Golden fixtures in ``tests/fixtures/definitions`` are real ``pipeline.definition()`` outputs of the
SageMaker Python SDK 2.257.7.
"""

import copy
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from sagepipe.lambda_helper import Lambda
from sagepipe.workflow import is_pipeline_parameter_string, is_pipeline_variable
from sagepipe.workflow._steps_compiler import CompiledStep, StepsCompiler
from sagepipe.workflow.callback_step import CallbackOutput, CallbackOutputTypeEnum, CallbackStep
from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.conditions import (
    ConditionEquals,
    ConditionGreaterThan,
    ConditionGreaterThanOrEqualTo,
    ConditionIn,
    ConditionLessThan,
    ConditionLessThanOrEqualTo,
    ConditionNot,
    ConditionOr,
    ConditionTypeEnum,
)
from sagepipe.workflow.emr_step import EMRStep, EMRStepConfig
from sagepipe.workflow.entities import PipelineVariable
from sagepipe.workflow.execution_variables import ExecutionVariable, ExecutionVariables
from sagepipe.workflow.fail_step import FailStep
from sagepipe.workflow.functions import Join, JsonGet
from sagepipe.workflow.lambda_step import LambdaOutput, LambdaOutputTypeEnum, LambdaStep
from sagepipe.workflow.parallelism_config import ParallelismConfiguration
from sagepipe.workflow.parameters import (
    Parameter,
    ParameterBoolean,
    ParameterFloat,
    ParameterInteger,
    ParameterString,
    ParameterTypeEnum,
)
from sagepipe.workflow.pipeline import (
    Pipeline,
    PipelineGraph,
    format_start_parameters,
    interpolate,
    update_args,
)
from sagepipe.workflow.pipeline_definition_config import PipelineDefinitionConfig
from sagepipe.workflow.pipeline_experiment_config import (
    PipelineExperimentConfig,
    PipelineExperimentConfigProperties,
)
from sagepipe.workflow.properties import Properties, PropertiesList, PropertiesMap, PropertyFile
from sagepipe.workflow.retry import (
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
)
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig
from sagepipe.workflow.step_collections import StepCollection
from sagepipe.workflow.step_outputs import StepOutput
from sagepipe.workflow.steps import CacheConfig, ConfigurableRetryStep, Step, StepTypeEnum
from sagepipe.workflow.utilities import hash_files_or_dirs, list_to_request

FIXTURES = Path(__file__).parent / "fixtures" / "definitions"


def load_fixture(name):
    with open(FIXTURES / name) as f:
        return json.load(f)


def expr(obj):
    """Interpolate a raw request structure the way Pipeline.definition() does."""
    return interpolate(obj, {}, {})


# ---------------------------------------------------------------------------------------------
# Test-only steps
# ---------------------------------------------------------------------------------------------


class CustomStep(ConfigurableRetryStep):
    """A job-like step with hand-written arguments (like the SDK tests' CustomStep)."""

    def __init__(
        self,
        name,
        arguments=None,
        step_type=StepTypeEnum.TRAINING,
        display_name=None,
        description=None,
        depends_on=None,
        retry_policies=None,
        cache_config=None,
        property_files=None,
    ):
        super().__init__(name, step_type, display_name, description, depends_on, retry_policies)
        self._arguments = arguments if arguments is not None else {}
        self.cache_config = cache_config
        self.property_files = property_files or []
        self._properties = Properties(step_name=name, step=self)

    @property
    def arguments(self):
        return self._arguments

    @property
    def properties(self):
        return self._properties

    def to_request(self):
        request_dict = super().to_request()
        if self.cache_config:
            request_dict.update(self.cache_config.config)
        if self.property_files:
            request_dict["PropertyFiles"] = [pf.expr for pf in self.property_files]
        return request_dict


class FakeFunctionStep(ConfigurableRetryStep):
    """Stands in for the lead's ``_FunctionStep`` (contract: ``_is_function_step = True``)."""

    _is_function_step = True

    def __init__(self, name, func_args=(), depends_on=None):
        super().__init__(name, StepTypeEnum.TRAINING, depends_on=depends_on)
        self.func_args = list(func_args)
        self._serialize_output_to_json = False
        self.flag_seen_at_build = []

    @property
    def arguments(self):
        self.flag_seen_at_build.append(self._serialize_output_to_json)
        container_args = ["--pipeline_step_name", self.name] + list(self.func_args)
        if self._serialize_output_to_json:
            container_args += ["--serialize_output_to_json", "true"]
        return {"AlgorithmSpecification": {"ContainerArguments": container_args}}

    @property
    def properties(self):
        raise NotImplementedError


class FakeDelayedReturn(StepOutput):
    """Stands in for ``DelayedReturn``: ``_referenced_steps`` is ``[the function step]``."""

    def __init__(self, step, path="Result"):
        super().__init__(step)
        self._path = path

    @property
    def expr(self):
        s3 = Join(on="/", values=[Properties(self._step.name, "OutputDataConfig.S3OutputPath"), "results.json"])
        return {"Std:JsonGet": {"S3Uri": s3.expr, "Path": self._path}}

    @property
    def _referenced_steps(self):
        return [self._step]


def compile_names(steps):
    return [s.name for s in StepsCompiler("p", None, steps).build()]


def steps_of(pipeline):
    return {s["Name"]: s for s in json.loads(pipeline.definition())["Steps"]}


# ---------------------------------------------------------------------------------------------
# Entities / pipeline variables
# ---------------------------------------------------------------------------------------------


def test_pipeline_variable_builtin_operations_raise():
    param = ParameterString(name="MyStr", default_value="a")
    with pytest.raises(TypeError, match="Pipeline variables do not support __str__ operation"):
        str(param)
    with pytest.raises(TypeError, match="Pipeline variables do not support __str__ operation"):
        f"{param}"
    with pytest.raises(TypeError) as err:
        int(ParameterInteger(name="I", default_value=1))
    assert str(err.value) == "Pipeline variables do not support __int__ operation."
    with pytest.raises(TypeError) as err:
        float(ParameterFloat(name="F", default_value=1.0))
    assert str(err.value) == "Pipeline variables do not support __float__ operation."
    with pytest.raises(TypeError) as err:
        param + "suffix"
    assert str(err.value) == "Pipeline variables do not support concatenation."
    with pytest.raises(TypeError, match="concatenation"):
        ExecutionVariables.START_DATETIME + ExecutionVariables.PIPELINE_NAME
    with pytest.raises(TypeError, match="concatenation"):
        Properties("A", "X") + Properties("A", "Y")


def test_to_string():
    param_str = ParameterString(name="S")
    assert param_str.to_string() is param_str
    assert ExecutionVariables.PIPELINE_NAME.to_string() is ExecutionVariables.PIPELINE_NAME
    join = Join(on="/", values=["a"])
    assert join.to_string() is join
    param_int = ParameterInteger(name="I", default_value=3)
    as_str = param_int.to_string()
    assert isinstance(as_str, Join)
    assert as_str.expr == {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.I"}]}}
    prop = Properties("Train", "ModelArtifacts.S3ModelArtifacts")
    assert prop.to_string().expr == {
        "Std:Join": {"On": "", "Values": [{"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}]}
    }


def test_is_pipeline_variable_helpers():
    assert is_pipeline_variable(ParameterInteger(name="x"))
    assert is_pipeline_variable(Join(on="", values=[]))
    assert is_pipeline_variable(Properties("A"))
    assert not is_pipeline_variable("x")
    assert is_pipeline_parameter_string(ParameterString(name="s"))
    assert not is_pipeline_parameter_string(ParameterInteger(name="s"))


def _fresh_interpreter(code: str) -> str:
    """What ``code`` prints in a new interpreter that finds sagepipe in this checkout only."""
    src = str(Path(__file__).resolve().parent.parent / "python")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": src}, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_workflow_package_import_is_light():
    code = (
        "import sys, sagepipe.workflow as w; "
        "mods = [m for m in sys.modules if m.startswith('sagepipe.workflow.')]; "
        "assert not mods, mods; "
        "assert 'sagepipe._core' not in sys.modules; "
        "import sagepipe.workflow.pipeline, sagepipe.workflow.pipeline_context, sagepipe.processing; "
        "import sagepipe.estimator, sagepipe.workflow.function_step; "
        "bad = {'boto3', 'botocore', 'attr', 'sagemaker', 'sagepipe._core'} & set(sys.modules); "
        "assert not bad, bad; print('ok')"
    )
    assert _fresh_interpreter(code) == "ok"


def test_a_function_step_script_imports_no_archive_process_or_html_modules():
    """What a ``@step`` pipeline script imports is paid by every run of it (W3 whole process):
    archives, subprocesses, HTML and "did you mean" load only where they are used."""
    code = (
        "import sys; "
        "import sagepipe.workflow.function_step, sagepipe.workflow.pipeline, "
        "sagepipe.workflow.pipeline_context, sagepipe.workflow.selective_execution_config; "
        "heavy = {'tarfile', 'tempfile', 'shutil', 'subprocess', 'html', 'difflib', 'secrets'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    assert _fresh_interpreter(code) == "[]"


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


def test_parameter_to_request_and_expr():
    assert ParameterString(name="S").to_request() == {"Name": "S", "Type": "String"}
    assert ParameterString(name="S", default_value="v", enum_values=["v", "w"]).to_request() == {
        "Name": "S",
        "Type": "String",
        "DefaultValue": "v",
        "EnumValues": ["v", "w"],
    }
    assert ParameterInteger(name="I", default_value=0).to_request() == {
        "Name": "I",
        "Type": "Integer",
        "DefaultValue": 0,
    }
    assert ParameterFloat(name="F", default_value=6.0).to_request() == {
        "Name": "F",
        "Type": "Float",
        "DefaultValue": 6.0,
    }
    assert ParameterBoolean(name="B", default_value=False).to_request() == {
        "Name": "B",
        "Type": "Boolean",
        "DefaultValue": False,
    }
    assert ParameterString(name="S").expr == {"Get": "Parameters.S"}
    assert ParameterInteger(name="I").parameter_type.python_type is int
    assert ParameterTypeEnum.BOOLEAN.python_type is bool
    assert ParameterString(name="S", enum_values=[]).to_request() == {"Name": "S", "Type": "String"}


def test_parameter_default_value_type_check():
    with pytest.raises(TypeError) as err:
        ParameterString(name="S", default_value=5)
    assert str(err.value) == "The default value specified does not match the Parameter Python type."
    with pytest.raises(TypeError):
        ParameterInteger(name="I", default_value="1")
    with pytest.raises(TypeError):
        ParameterFloat(name="F", default_value=1)
    # falsy defaults are never type-checked (SDK quirk)
    ParameterString(name="S", default_value=0)
    ParameterFloat(name="F", default_value=0)
    ParameterInteger(name="I", default_value="")
    ParameterBoolean(name="B", default_value=0)


def test_parameter_boolean_is_partial_quirk():
    b = ParameterBoolean("Flag", default_value=True)
    assert isinstance(b, Parameter)
    assert b.parameter_type is ParameterTypeEnum.BOOLEAN
    with pytest.raises(TypeError, match="multiple values for argument 'parameter_type'"):
        ParameterBoolean("Flag", False)


def test_parameter_equality_and_hash():
    assert ParameterInteger(name="I", default_value=1) == ParameterInteger(name="I", default_value=1)
    assert ParameterInteger(name="I", default_value=1) != ParameterInteger(name="I", default_value=2)
    with pytest.raises(TypeError):
        hash(ParameterInteger(name="I"))
    assert hash(ParameterString(name="S")) == hash(("Name", "Type"))
    assert {ParameterString(name="S")}


# ---------------------------------------------------------------------------------------------
# Functions, execution variables, properties
# ---------------------------------------------------------------------------------------------


def test_execution_variables():
    assert ExecutionVariables.START_DATETIME.expr == {"Get": "Execution.StartDateTime"}
    assert ExecutionVariables.CURRENT_DATETIME.expr == {"Get": "Execution.CurrentDateTime"}
    assert ExecutionVariables.PIPELINE_NAME.expr == {"Get": "Execution.PipelineName"}
    assert ExecutionVariables.PIPELINE_ARN.expr == {"Get": "Execution.PipelineArn"}
    assert ExecutionVariables.PIPELINE_EXECUTION_ID.expr == {"Get": "Execution.PipelineExecutionId"}
    assert ExecutionVariables.PIPELINE_EXECUTION_ARN.expr == {"Get": "Execution.PipelineExecutionArn"}
    assert ExecutionVariables.TRAINING_JOB_NAME.expr == {"Get": "Execution.TrainingJobName"}
    assert ExecutionVariables.PROCESSING_JOB_NAME.expr == {"Get": "Execution.ProcessingJobName"}
    assert ExecutionVariable("PipelineName") == ExecutionVariables.PIPELINE_NAME
    assert ExecutionVariables.PIPELINE_NAME._referenced_steps == []


def test_join_expr_nested():
    param = ParameterString(name="Bucket", default_value="b")
    inner = Join(on="-", values=[ExecutionVariables.PIPELINE_EXECUTION_ID, 3])
    join = Join(on="/", values=["s3:/", param, inner, 1.5, True, None])
    assert join.expr == {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3:/",
                {"Get": "Parameters.Bucket"},
                {"Std:Join": {"On": "-", "Values": [{"Get": "Execution.PipelineExecutionId"}, 3]}},
                1.5,
                True,
                None,
            ],
        }
    }
    assert Join().expr == {"Std:Join": {"On": "", "Values": []}}
    assert Join(on="/", values=["a"]) == Join(on="/", values=["a"])


def test_join_referenced_steps():
    step = CustomStep("A")
    join = Join(on="/", values=[step.properties.X, Properties("B", "Y"), "c"])
    assert join._referenced_steps == [step, "B"]


def test_json_get_property_file_form():
    report = PropertyFile(name="Metrics", output_name="metrics", path="metrics.json")
    assert report.expr == {"PropertyFileName": "Metrics", "OutputName": "metrics", "FilePath": "metrics.json"}
    jg = JsonGet(step_name="Prep", property_file=report, json_path="loss")
    assert jg.expr == {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Prep.PropertyFiles.Metrics"}, "Path": "loss"}}
    jg2 = JsonGet(step_name="Prep", property_file="Metrics", json_path="a.b[0]")
    assert jg2.expr["Std:JsonGet"]["PropertyFile"] == {"Get": "Steps.Prep.PropertyFiles.Metrics"}
    assert jg2._referenced_steps == ["Prep"]
    with pytest.raises(ValueError, match="Please give a valid step name as a string."):
        _ = JsonGet(step_name=None, property_file=report, json_path="x").expr


def test_json_get_s3_uri_form():
    s3_uri = Join(on="/", values=[Properties("add", "OutputDataConfig.S3OutputPath"), "results.json"])
    jg = JsonGet(s3_uri=s3_uri, json_path="Result[0]")
    assert jg.expr == {
        "Std:JsonGet": {
            "S3Uri": {
                "Std:Join": {
                    "On": "/",
                    "Values": [{"Get": "Steps.add.OutputDataConfig.S3OutputPath"}, "results.json"],
                }
            },
            "Path": "Result[0]",
        }
    }
    step = CustomStep("add")
    assert JsonGet(s3_uri=s3_uri, json_path="x", step=step)._referenced_steps == [step]


def test_json_get_validation():
    report = PropertyFile(name="M", output_name="m", path="m.json")
    join = Join(on="/", values=["s3://b", "k"])
    with pytest.raises(ValueError, match="either a property file or s3 uri as an input, but not both"):
        JsonGet(step_name="P", property_file=report, json_path="x", s3_uri=join)
    with pytest.raises(ValueError, match="Missing s3uri or property file"):
        JsonGet(step_name="P", json_path="x")
    with pytest.raises(ValueError, match="can only be a sagemaker.workflow.functions.Join object"):
        JsonGet(s3_uri="s3://bucket/key", json_path="x")
    nested = Join(on="/", values=[JsonGet(step_name="P", property_file=report, json_path="y")])
    with pytest.raises(ValueError, match="can only be a primitive object, Parameter, ExecutionVariable"):
        JsonGet(s3_uri=nested, json_path="x")
    ok = Join(on="/", values=[ParameterString(name="B"), ExecutionVariables.PIPELINE_EXECUTION_ID, "x"])
    JsonGet(s3_uri=ok, json_path="x")


def test_properties_paths():
    step = CustomStep("Train")
    props = step.properties
    assert props.expr == {"Get": "Steps.Train"}
    assert props.ModelArtifacts.S3ModelArtifacts.expr == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert props.FinalMetricDataList["val:acc"].Value.expr == {
        "Get": "Steps.Train.FinalMetricDataList['val:acc'].Value"
    }
    assert props.HyperParameters["lr"].expr == {"Get": "Steps.Train.HyperParameters['lr']"}
    tune = Properties("Tune")
    assert tune.TrainingJobSummaries[2].TrainingJobName.expr == {
        "Get": "Steps.Tune.TrainingJobSummaries[2].TrainingJobName"
    }
    prep = Properties("P")
    assert prep.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri.expr == {
        "Get": "Steps.P.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }
    # stable identity, step propagated to children
    assert props.ModelArtifacts is props.ModelArtifacts
    assert props.FinalMetricDataList[0] is props.FinalMetricDataList[0]
    assert props.ModelArtifacts.S3ModelArtifacts._referenced_steps == [step]
    assert Properties("X", "Y")._referenced_steps == ["X"]
    assert PropertiesList("S", "L")[1].expr == {"Get": "Steps.S.L[1]"}
    assert PropertiesMap("S", "M")["k"].expr == {"Get": "Steps.S.M['k']"}


def test_properties_private_attributes_and_pickling():
    props = CustomStep("Train").properties.ModelArtifacts
    with pytest.raises(AttributeError):
        _ = props._does_not_exist
    with pytest.raises(AttributeError):
        _ = props.__deepcopy_hook__
    assert not hasattr(props, "_whatever")
    with pytest.raises(TypeError):
        iter(props)
    restored = pickle.loads(pickle.dumps(props))
    assert restored.expr == {"Get": "Steps.Train.ModelArtifacts"}
    assert restored._step is None
    copied = copy.deepcopy(props.S3ModelArtifacts)
    assert copied.expr == {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}
    assert copy.copy(props).expr == props.expr


def test_condition_step_properties_outcome():
    cond = ConditionStep(name="C")
    assert cond.properties.Outcome.expr == {"Get": "Steps.C.Outcome"}


def test_pipeline_experiment_config_properties():
    assert PipelineExperimentConfigProperties.EXPERIMENT_NAME.expr == {"Get": "PipelineExperimentConfig.ExperimentName"}
    assert PipelineExperimentConfigProperties.TRIAL_NAME.expr == {"Get": "PipelineExperimentConfig.TrialName"}
    cfg = PipelineExperimentConfig("Exp", ExecutionVariables.PIPELINE_EXECUTION_ID)
    assert expr(cfg.to_request()) == {
        "ExperimentName": "Exp",
        "TrialName": {"Get": "Execution.PipelineExecutionId"},
    }


# ---------------------------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------------------------


def test_condition_comparisons():
    param = ParameterInteger(name="MyInt")
    prop = Properties("Train", "FinalMetricDataList['mse'].Value")
    cases = [
        (ConditionEquals, "Equals"),
        (ConditionGreaterThan, "GreaterThan"),
        (ConditionGreaterThanOrEqualTo, "GreaterThanOrEqualTo"),
        (ConditionLessThan, "LessThan"),
        (ConditionLessThanOrEqualTo, "LessThanOrEqualTo"),
    ]
    for cls, type_name in cases:
        cond = cls(left=param, right=prop)
        assert expr(cond.to_request()) == {
            "Type": type_name,
            "LeftValue": {"Get": "Parameters.MyInt"},
            "RightValue": {"Get": "Steps.Train.FinalMetricDataList['mse'].Value"},
        }
        assert list(cond.to_request()) == ["Type", "LeftValue", "RightValue"]
    assert expr(ConditionEquals(left=ExecutionVariables.PIPELINE_NAME, right="x").to_request()) == {
        "Type": "Equals",
        "LeftValue": {"Get": "Execution.PipelineName"},
        "RightValue": "x",
    }


def test_condition_in_not_or():
    param = ParameterString(name="S")
    cond_in = ConditionIn(value=param, in_values=["a", ExecutionVariables.PIPELINE_NAME, 3])
    assert expr(cond_in.to_request()) == {
        "Type": "In",
        "QueryValue": {"Get": "Parameters.S"},
        "Values": ["a", {"Get": "Execution.PipelineName"}, 3],
    }
    cond_not = ConditionNot(expression=ConditionEquals(left=param, right="b"))
    assert expr(cond_not.to_request()) == {
        "Type": "Not",
        "Condition": {"Type": "Equals", "LeftValue": {"Get": "Parameters.S"}, "RightValue": "b"},
    }
    cond_or = ConditionOr(conditions=[ConditionLessThan(left=1, right=2), cond_in])
    assert expr(cond_or.to_request()) == {
        "Type": "Or",
        "Conditions": [
            {"Type": "LessThan", "LeftValue": 1, "RightValue": 2},
            expr(cond_in.to_request()),
        ],
    }
    assert ConditionOr().to_request() == {"Type": "Or", "Conditions": []}
    assert ConditionTypeEnum.factory() is ConditionTypeEnum.EQ
    assert ConditionTypeEnum("In") is ConditionTypeEnum.IN


def test_condition_referenced_steps():
    a, b = CustomStep("A"), CustomStep("B")
    cond = ConditionOr(
        conditions=[
            ConditionNot(ConditionEquals(a.properties.X, 1)),
            ConditionIn(value=b.properties.Y, in_values=[Properties("C", "Z")]),
        ]
    )
    assert cond._referenced_steps == [a, b, "C"]


# ---------------------------------------------------------------------------------------------
# Retry policies, cache config, configs
# ---------------------------------------------------------------------------------------------


def test_retry_policies_to_request():
    p = StepRetryPolicy(exception_types=[StepExceptionTypeEnum.THROTTLING], max_attempts=3)
    assert p.to_request() == {
        "BackoffRate": 2.0,
        "IntervalSeconds": 1,
        "MaxAttempts": 3,
        "ExceptionType": ["Step.THROTTLING"],
    }
    p2 = SageMakerJobStepRetryPolicy(
        exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR],
        failure_reason_types=[SageMakerJobExceptionTypeEnum.INTERNAL_ERROR],
        interval_seconds=10,
        expire_after_mins=60,
    )
    assert p2.to_request() == {
        "BackoffRate": 2.0,
        "IntervalSeconds": 10,
        "ExpireAfterMin": 60,
        "ExceptionType": ["SageMaker.CAPACITY_ERROR", "SageMaker.JOB_INTERNAL_ERROR"],
    }
    assert list(p2.to_request()) == ["BackoffRate", "IntervalSeconds", "ExpireAfterMin", "ExceptionType"]


def test_retry_policy_quirk_both_or_neither_accepted():
    both = StepRetryPolicy([StepExceptionTypeEnum.SERVICE_FAULT], max_attempts=2, expire_after_mins=5)
    assert both.to_request()["MaxAttempts"] == 2
    assert both.to_request()["ExpireAfterMin"] == 5
    neither = StepRetryPolicy([StepExceptionTypeEnum.SERVICE_FAULT])
    assert neither.to_request() == {
        "BackoffRate": 2.0,
        "IntervalSeconds": 1,
        "ExceptionType": ["Step.SERVICE_FAULT"],
    }


def test_retry_policy_validators():
    with pytest.raises(AssertionError, match="backoff_rate should be non-negative"):
        StepRetryPolicy([StepExceptionTypeEnum.THROTTLING], backoff_rate=-1.0)
    with pytest.raises(AssertionError, match="interval_seconds rate should be non-negative"):
        StepRetryPolicy([StepExceptionTypeEnum.THROTTLING], interval_seconds=-1)
    with pytest.raises(AssertionError, match=r"max_attempts must in range of \(0, 20\] attempts"):
        StepRetryPolicy([StepExceptionTypeEnum.THROTTLING], max_attempts=21)
    with pytest.raises(AssertionError, match="max_attempts"):
        StepRetryPolicy([StepExceptionTypeEnum.THROTTLING], max_attempts=-1)
    with pytest.raises(AssertionError, match=r"expire_after_mins must in range of \(0, 14400\] minutes"):
        StepRetryPolicy([StepExceptionTypeEnum.THROTTLING], expire_after_mins=14401)
    with pytest.raises(ValueError) as err:
        StepRetryPolicy(exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR], max_attempts=1)
    assert str(err.value) == "SageMakerJobExceptionTypeEnum.CAPACITY_ERROR is not of StepExceptionTypeEnum."
    with pytest.raises(ValueError) as err:
        SageMakerJobStepRetryPolicy(max_attempts=1)
    assert str(err.value) == "At least one of the [exception_types, failure_reason_types] needs to be given."
    with pytest.raises(ValueError, match="is not of SageMakerJobExceptionTypeEnum"):
        SageMakerJobStepRetryPolicy(failure_reason_types=[StepExceptionTypeEnum.THROTTLING], max_attempts=1)
    # zero values skip validation like the SDK ("if value:")
    StepRetryPolicy([StepExceptionTypeEnum.THROTTLING], max_attempts=0, interval_seconds=0, backoff_rate=0)


def test_cache_config():
    assert CacheConfig().config == {"CacheConfig": {"Enabled": False}}
    assert CacheConfig(enable_caching=True, expire_after="P30D").config == {
        "CacheConfig": {"Enabled": True, "ExpireAfter": "P30D"}
    }
    with pytest.raises(TypeError, match="'expire_after' must be <class 'str'>"):
        CacheConfig(enable_caching=True, expire_after=30)


def test_selective_execution_config_to_request():
    cfg = SelectiveExecutionConfig(
        source_pipeline_execution_arn="foo-arn", selected_steps=["step-1", "step-2", "step-3"]
    )
    assert cfg.to_request() == {
        "SourcePipelineExecutionArn": "foo-arn",
        "SelectedSteps": [{"StepName": "step-1"}, {"StepName": "step-2"}, {"StepName": "step-3"}],
    }
    no_arn = SelectiveExecutionConfig(selected_steps=["b", "a", "b"], reference_latest_execution=False)
    assert no_arn.to_request() == {"SelectedSteps": [{"StepName": "b"}, {"StepName": "a"}, {"StepName": "b"}]}
    assert no_arn.reference_latest_execution is False
    assert SelectiveExecutionConfig(selected_steps=None).to_request() == {}
    assert SelectiveExecutionConfig(selected_steps=[]).to_request() == {"SelectedSteps": []}
    assert SelectiveExecutionConfig(["x"]).reference_latest_execution is True


def test_misc_configs_and_helpers():
    assert ParallelismConfiguration(max_parallel_execution_steps=5).to_request() == {"MaxParallelExecutionSteps": 5}
    assert PipelineDefinitionConfig(use_custom_job_prefix=True).use_custom_job_prefix is True
    assert format_start_parameters(None) is None
    assert format_start_parameters({"A": 1, "B": True, "C": 0.5, "D": "x"}) == [
        {"Name": "A", "Value": "1"},
        {"Name": "B", "Value": "True"},
        {"Name": "C", "Value": "0.5"},
        {"Name": "D", "Value": "x"},
    ]
    args = {"A": 1}
    update_args(args, B=None, C=0, D="d")
    assert args == {"A": 1, "C": 0, "D": "d"}


def test_hash_files_or_dirs_matches_sdk(tmp_path, monkeypatch):
    code = tmp_path / "code"
    code.mkdir()
    (code / "preprocess.py").write_bytes(b"print('hi')\n")
    monkeypatch.chdir(tmp_path)
    import hashlib

    h = hashlib.sha256()
    h.update(b"code/preprocess.py")
    h.update(b"print('hi')\n")
    assert hash_files_or_dirs(["code/preprocess.py"]) == h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------


def test_step_to_request_key_order():
    step = CustomStep(
        "S",
        arguments={"a": 1},
        display_name="disp",
        description="desc",
        depends_on=["X"],
        retry_policies=[StepRetryPolicy([StepExceptionTypeEnum.SERVICE_FAULT], max_attempts=2)],
        cache_config=CacheConfig(True, "PT1H"),
        property_files=[PropertyFile("PF", "out", "f.json")],
    )
    req = step.to_request()
    assert list(req) == [
        "Name",
        "Type",
        "Arguments",
        "DependsOn",
        "DisplayName",
        "Description",
        "RetryPolicies",
        "CacheConfig",
        "PropertyFiles",
    ]
    assert step.ref == {"Name": "S"}
    bare = CustomStep("B").to_request()
    assert list(bare) == ["Name", "Type", "Arguments"]


def test_add_depends_on_and_retry_policy():
    step = CustomStep("S")
    step.add_depends_on([])
    assert step.depends_on is None
    step.add_depends_on(["A"])
    step.add_depends_on(["B"])
    assert step.depends_on == ["A", "B"]
    step.add_retry_policy(None)
    assert step.retry_policies == []
    policy = StepRetryPolicy([StepExceptionTypeEnum.SERVICE_FAULT], max_attempts=1)
    step.add_retry_policy(policy)
    assert step.retry_policies == [policy]


def test_step_type_enum():
    assert StepTypeEnum("Training") is StepTypeEnum.TRAINING
    assert StepTypeEnum(value="Model") is StepTypeEnum.CREATE_MODEL
    assert StepTypeEnum.factory() is StepTypeEnum.CONDITION
    assert StepTypeEnum.EMR.value == "EMR"


def test_fail_step():
    fail = FailStep(name="F")
    assert fail.to_request() == {"Name": "F", "Type": "Fail", "Arguments": {"ErrorMessage": ""}}
    fail2 = FailStep(name="F2", error_message=Join(on=" ", values=["x", ParameterInteger(name="I")]))
    assert expr(fail2.to_request())["Arguments"] == {
        "ErrorMessage": {"Std:Join": {"On": " ", "Values": ["x", {"Get": "Parameters.I"}]}}
    }
    with pytest.raises(RuntimeError, match="FailStep is a terminal step"):
        _ = fail.properties


def test_condition_step_arguments():
    a = CustomStep("A")
    inner = CustomStep("Inner")
    coll = StepCollection(name="Coll", steps=[CustomStep("Coll-1"), CustomStep("Coll-2")])
    cond = ConditionStep(
        name="C",
        conditions=[ConditionEquals(a.properties.X, 1)],
        if_steps=[inner, coll],
        else_steps=[],
        display_name="d",
        description="e",
    )
    req = cond.to_request()
    assert list(req) == ["Name", "Type", "Arguments", "DisplayName", "Description"]
    assert [s["Name"] for s in req["Arguments"]["IfSteps"]] == ["Inner", "Coll-1", "Coll-2"]
    assert cond.step_only_arguments.keys() == {"Conditions"}
    assert list_to_request([coll]) == coll.request_dicts()
    assert coll.properties is coll.steps[-1].properties
    assert StepCollection(name="empty").properties is None


def test_lambda_callback_emr_requests():
    lam = LambdaStep(
        name="L",
        lambda_func=Lambda(function_arn="arn:fn"),
        outputs=[LambdaOutput(output_name="o", output_type=LambdaOutputTypeEnum.Float)],
    )
    assert lam.to_request() == {
        "Name": "L",
        "Type": "Lambda",
        "Arguments": {},
        "FunctionArn": "arn:fn",
        "OutputParameters": [{"OutputName": "o", "OutputType": "Float"}],
    }
    assert lam.properties.Outputs["o"].expr == {"Get": "Steps.L.OutputParameters['o']"}
    assert LambdaOutput(output_name="o").expr("L") == {"Get": "Steps.L.OutputParameters['o']"}
    cb = CallbackStep(
        name="CB",
        sqs_queue_url="https://q",
        inputs={"a": 1},
        outputs=[CallbackOutput(output_name="s", output_type=CallbackOutputTypeEnum.Boolean)],
        cache_config=CacheConfig(True, "P1D"),
    )
    assert cb.to_request() == {
        "Name": "CB",
        "Type": "Callback",
        "Arguments": {"a": 1},
        "CacheConfig": {"Enabled": True, "ExpireAfter": "P1D"},
        "SqsQueueUrl": "https://q",
        "OutputParameters": [{"OutputName": "s", "OutputType": "Boolean"}],
    }
    assert cb.properties.Outputs["s"].expr == {"Get": "Steps.CB.OutputParameters['s']"}
    cfg = EMRStepConfig(jar="j.jar", args=["a"], main_class="Main", properties=[{"Key": "k", "Value": "v"}])
    emr = EMRStep(
        name="E",
        display_name=None,
        description=None,
        cluster_id="j-1",
        step_config=cfg,
        execution_role_arn="arn:role",
        retry_policies=[StepRetryPolicy([StepExceptionTypeEnum.SERVICE_FAULT], max_attempts=2)],
        cache_config=CacheConfig(True, "PT1H"),
    )
    req = emr.to_request()
    assert req["Arguments"] == {
        "StepConfig": {
            "HadoopJarStep": {
                "Jar": "j.jar",
                "Args": ["a"],
                "MainClass": "Main",
                "Properties": [{"Key": "k", "Value": "v"}],
            }
        },
        "ClusterId": "j-1",
        "ExecutionRoleArn": "arn:role",
    }
    assert list(req) == ["Name", "Type", "Arguments", "RetryPolicies", "CacheConfig"]
    assert emr.properties.ClusterId == "j-1"
    assert emr.properties.ActionOnFailure.expr == {"Get": "Steps.E.ActionOnFailure"}
    cluster_cfg = {"Instances": {"InstanceGroups": []}}
    emr2 = EMRStep("E2", None, None, None, EMRStepConfig("j"), cluster_config=cluster_cfg)
    assert emr2.arguments == {"StepConfig": {"HadoopJarStep": {"Jar": "j"}}, "ClusterConfig": cluster_cfg}


def test_emr_step_validation():
    cfg = EMRStepConfig(jar="j")
    with pytest.raises(ValueError, match="EMRStep E must have either cluster_id or cluster_config"):
        EMRStep("E", None, None, None, cfg)
    with pytest.raises(ValueError, match="can not have both cluster_id"):
        EMRStep("E", None, None, "j-1", cfg, cluster_config={"Instances": {"InstanceGroups": []}})
    with pytest.raises(ValueError, match="cannot have execution_role_arn"):
        EMRStep("E", None, None, None, cfg, cluster_config={"Instances": {}}, execution_role_arn="r")
    with pytest.raises(ValueError, match="should not contain any of the Name"):
        EMRStep("E", None, None, None, cfg, cluster_config={"Name": "x", "Instances": {}})
    with pytest.raises(ValueError, match="must contain Instances"):
        EMRStep("E", None, None, None, cfg, cluster_config={})
    with pytest.raises(ValueError, match="KeepJobFlowAliveWhenNoSteps"):
        EMRStep("E", None, None, None, cfg, cluster_config={"Instances": {"TerminationProtected": True}})
    with pytest.raises(ValueError, match="should contain either InstanceGroups or InstanceFleets"):
        EMRStep("E", None, None, None, cfg, cluster_config={"Instances": {}})


def test_lambda_helper():
    with pytest.raises(ValueError, match="Either function_arn or function_name must be provided."):
        Lambda()
    with pytest.raises(ValueError, match="execution_role_arn must be provided."):
        Lambda(function_name="f")
    lam = Lambda(function_name="f", execution_role_arn="r", script="s.py", handler="s.h")
    with pytest.raises(NotImplementedError):
        LambdaStep(name="L", lambda_func=lam).to_request()


# ---------------------------------------------------------------------------------------------
# Compiler
# ---------------------------------------------------------------------------------------------


def test_compiler_implicit_inclusion_bfs_order():
    a = CustomStep("A")
    b = CustomStep("B", arguments={"in": a.properties.ModelArtifacts.S3ModelArtifacts})
    c = CustomStep("C")
    assert compile_names([b, c]) == ["B", "C", "A"]
    # reached through depends_on as well (step object, not a name)
    d = CustomStep("D")
    e = CustomStep("E", depends_on=[d])
    assert compile_names([e]) == ["E", "D"]
    # transitive
    x = CustomStep("X")
    y = CustomStep("Y", arguments={"v": x.properties.P})
    z = CustomStep("Z", arguments={"v": y.properties.P})
    assert compile_names([z]) == ["Z", "Y", "X"]


def test_compiler_depends_on_rules():
    a = CustomStep("A")
    coll = StepCollection(name="Coll", steps=[CustomStep("Coll-1"), CustomStep("Coll-2")])
    b = CustomStep(
        "B",
        arguments={"x": a.properties.X},
        depends_on=["Coll", a],
    )
    pipe = Pipeline(name="p", steps=[a, coll, b])
    steps = steps_of(pipe)
    # data references are NOT added; StepCollection expands to all its sub-steps
    assert steps["B"]["DependsOn"] == ["Coll-1", "Coll-2", "A"]
    assert "DependsOn" not in steps["A"]
    assert list(steps) == ["A", "Coll-1", "Coll-2", "B"]
    # a data reference alone gives no DependsOn
    c = CustomStep("C", arguments={"x": a.properties.X})
    assert "DependsOn" not in steps_of(Pipeline(name="p", steps=[a, c]))["C"]


def test_compiler_unknown_depends_on_name():
    b = CustomStep("B", depends_on=["Nope"])
    with pytest.raises(ValueError) as err:
        Pipeline(name="p", steps=[b]).definition()
    assert str(err.value) == "The input steps do not contain the step of name: Nope"
    # a string can only name a step that is in the input (incl. branches/collections), not an implicit one
    a = CustomStep("A")
    c = CustomStep("C", arguments={"x": a.properties.X}, depends_on=["A"])
    with pytest.raises(ValueError, match="The input steps do not contain the step of name: A"):
        Pipeline(name="p", steps=[c]).definition()


def test_compiler_duplicate_names():
    with pytest.raises(ValueError) as err:
        Pipeline(name="p", steps=[CustomStep("A"), CustomStep("A")]).definition()
    assert str(err.value) == (
        "Pipeline steps cannot have duplicate names. In addition, steps added in "
        "the ConditionStep cannot be added in the Pipeline steps list."
    )


def test_compiler_branch_step_also_top_level():
    inner = CustomStep("Inner")
    cond = ConditionStep(name="C", conditions=[ConditionEquals(1, 1)], if_steps=[inner])
    with pytest.raises(ValueError, match="Pipeline steps cannot have duplicate names"):
        Pipeline(name="p", steps=[cond, inner]).definition()


def test_compiler_build_twice():
    compiler = StepsCompiler("p", None, [CustomStep("A")])
    compiled = compiler.build()
    assert isinstance(compiled[0], CompiledStep)
    assert compiled[0].step_type is StepTypeEnum.TRAINING
    with pytest.raises(RuntimeError) as err:
        compiler.build()
    assert str(err.value) == "Cannot build a pipeline more than once with the same compiler."


def test_compiler_condition_branches_not_top_level():
    a = CustomStep("A")
    inner = CustomStep("Inner", arguments={"x": a.properties.X}, depends_on=["A"])
    nested = ConditionStep(name="Nested", conditions=[ConditionEquals(1, 1)], else_steps=[FailStep("F")])
    cond = ConditionStep(
        name="C",
        conditions=[ConditionEquals(a.properties.Y, 1)],
        if_steps=[inner, nested],
        depends_on=[a],
    )
    d = json.loads(Pipeline(name="p", steps=[cond, a]).definition())
    assert [s["Name"] for s in d["Steps"]] == ["C", "A"]
    c = d["Steps"][0]
    assert c["DependsOn"] == ["A"]
    assert [s["Name"] for s in c["Arguments"]["IfSteps"]] == ["Inner", "Nested"]
    assert c["Arguments"]["IfSteps"][0]["DependsOn"] == ["A"]
    assert c["Arguments"]["IfSteps"][1]["Arguments"]["ElseSteps"][0]["Name"] == "F"


def test_pipeline_steps_accept_step_output():
    a = CustomStep("A")
    fn = FakeFunctionStep("fn")
    out = FakeDelayedReturn(fn)
    assert compile_names([out, a]) == ["fn", "A"]


# ---------------------------------------------------------------------------------------------
# Function-step contract
# ---------------------------------------------------------------------------------------------


def _function_pipeline():
    generate = FakeFunctionStep("generate")
    gen_out = FakeDelayedReturn(generate, "Result[0]")
    add = FakeFunctionStep("add", func_args=[gen_out], depends_on=[generate])
    add_out = FakeDelayedReturn(add)
    cond = ConditionStep(
        name="IsSeven",
        conditions=[ConditionGreaterThanOrEqualTo(left=add_out, right=7)],
        if_steps=[],
        else_steps=[FailStep(name="NotSeven", error_message="sum < 7")],
    )
    return generate, add, cond


def test_function_steps_implicit_inclusion_and_depends_on():
    generate, add, cond = _function_pipeline()
    d = json.loads(Pipeline(name="FunctionStepPipeline", steps=[cond]).definition())
    assert [s["Name"] for s in d["Steps"]] == ["IsSeven", "add", "generate"]
    is_seven, add_req, gen_req = d["Steps"]
    assert list(is_seven) == ["Name", "Type", "Arguments", "DependsOn"]
    assert is_seven["DependsOn"] == ["add"]
    assert add_req["DependsOn"] == ["generate"]
    assert "DependsOn" not in gen_req
    assert is_seven["Arguments"]["Conditions"][0]["LeftValue"] == {
        "Std:JsonGet": {
            "S3Uri": {
                "Std:Join": {
                    "On": "/",
                    "Values": [{"Get": "Steps.add.OutputDataConfig.S3OutputPath"}, "results.json"],
                }
            },
            "Path": "Result",
        }
    }
    assert add._serialize_output_to_json is True
    assert generate._serialize_output_to_json is True
    for req in (add_req, gen_req):
        args = req["Arguments"]["AlgorithmSpecification"]["ContainerArguments"]
        assert args[-2:] == ["--serialize_output_to_json", "true"]
        assert args.count("--serialize_output_to_json") == 1


def test_function_step_built_before_consumer_is_patched():
    generate = FakeFunctionStep("generate")
    consumer = CustomStep("consumer", arguments={"x": FakeDelayedReturn(generate)}, depends_on=["other"])
    other = CustomStep("other")
    pipe = Pipeline(name="p", steps=[generate, other, consumer])
    steps = steps_of(pipe)
    assert generate.flag_seen_at_build == [False]
    assert generate._serialize_output_to_json is True
    args = steps["generate"]["Arguments"]["AlgorithmSpecification"]["ContainerArguments"]
    assert args == ["--pipeline_step_name", "generate", "--serialize_output_to_json", "true"]
    # explicit depends_on first, then referenced function steps
    assert steps["consumer"]["DependsOn"] == ["other", "generate"]
    # second build: the flag is already set, no duplicate arguments
    steps2 = steps_of(pipe)
    assert steps2["generate"]["Arguments"]["AlgorithmSpecification"]["ContainerArguments"] == args


def test_function_step_depends_on_no_duplicates_and_fail_step():
    fn = FakeFunctionStep("fn")
    consumer = CustomStep("consumer", arguments={"x": FakeDelayedReturn(fn)}, depends_on=[fn])
    fail = FailStep(name="Boom", error_message=Join(on=" ", values=["got", FakeDelayedReturn(fn)]))
    steps = steps_of(Pipeline(name="p", steps=[consumer, fail]))
    assert steps["consumer"]["DependsOn"] == ["fn"]
    assert steps["Boom"]["DependsOn"] == ["fn"]
    assert list(steps) == ["consumer", "Boom", "fn"]
    # an unreferenced function step is not flagged
    lonely = FakeFunctionStep("lonely")
    steps_of(Pipeline(name="p", steps=[lonely]))
    assert lonely._serialize_output_to_json is False


def test_function_step_referenced_from_condition_in_branch():
    fn = FakeFunctionStep("fn")
    inner_cond = ConditionStep(name="Inner", conditions=[ConditionEquals(FakeDelayedReturn(fn), 1)])
    outer = ConditionStep(name="Outer", conditions=[ConditionEquals(1, 1)], if_steps=[inner_cond])
    d = json.loads(Pipeline(name="p", steps=[outer]).definition())
    assert [s["Name"] for s in d["Steps"]] == ["Outer", "fn"]
    assert d["Steps"][0]["Arguments"]["IfSteps"][0]["DependsOn"] == ["fn"]
    assert fn._serialize_output_to_json is True


# ---------------------------------------------------------------------------------------------
# Pipeline
# ---------------------------------------------------------------------------------------------


def test_pipeline_defaults_and_top_level_order():
    pipe = Pipeline(name="P")
    assert pipe.sagemaker_session is None
    assert pipe.parameters == [] and pipe.steps == []
    d = json.loads(pipe.definition())
    assert list(d) == ["Version", "Metadata", "Parameters", "PipelineExperimentConfig", "Steps"]
    assert d == {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [],
        "PipelineExperimentConfig": {
            "ExperimentName": {"Get": "Execution.PipelineName"},
            "TrialName": {"Get": "Execution.PipelineExecutionId"},
        },
        "Steps": [],
    }
    no_exp = json.loads(Pipeline(name="P", pipeline_experiment_config=None).definition())
    assert no_exp["PipelineExperimentConfig"] is None
    assert '"PipelineExperimentConfig": null' in Pipeline(name="P", pipeline_experiment_config=None).definition()
    session = object()
    assert Pipeline(name="P", sagemaker_session=session).sagemaker_session is session
    assert Pipeline(name="P").pipeline_definition_config.use_custom_job_prefix is False


def test_interpolate_callback_and_lambda_outputs():
    out = CallbackOutput(output_name="status")
    lam_out = LambdaOutput(output_name="count")
    obj = {"a": [out, (lam_out,)], "b": {ParameterString(name="S")}.__class__([1])}
    result = interpolate(obj, {"status": "CB"}, {"count": "L"})
    assert result == {
        "a": [
            {"Get": "Steps.CB.OutputParameters['status']"},
            ({"Get": "Steps.L.OutputParameters['count']"},),
        ],
        "b": {1},
    }


# ---------------------------------------------------------------------------------------------
# PipelineGraph
# ---------------------------------------------------------------------------------------------


def test_pipeline_graph_adjacency_and_topological_order():
    a = CustomStep("A")
    b = CustomStep("B", arguments={"x": a.properties.X})
    c = CustomStep("C", depends_on=["B"])
    inner = CustomStep("Inner")
    cond = ConditionStep(name="Cond", conditions=[ConditionEquals(c.properties.Y, 1)], if_steps=[inner])
    graph = PipelineGraph([a, b, c, cond])
    assert set(graph.step_map) == {"A", "B", "C", "Cond", "Inner"}
    assert graph.adjacency_list == {"A": ["B"], "B": ["C"], "C": ["Cond"], "Cond": ["Inner"], "Inner": []}
    order = [s.name for s in graph]
    assert order == ["A", "B", "C", "Cond", "Inner"]
    assert graph.get_steps_in_sub_dag(b) == {"B", "C", "Cond", "Inner"}
    assert graph.get_steps_in_sub_dag(inner) == {"Inner"}
    with pytest.raises(ValueError, match="Step: Ghost does not exist in the pipeline."):
        graph.get_steps_in_sub_dag(CustomStep("Ghost"))


def test_pipeline_graph_topological_order_diamond():
    a = CustomStep("A")
    b = CustomStep("B", depends_on=[a])
    c = CustomStep("C", arguments={"x": a.properties.P})
    d = CustomStep("D", depends_on=[b, c])
    order = [s.name for s in PipelineGraph([d, c, b, a])]
    pos = {name: i for i, name in enumerate(order)}
    assert pos["A"] < pos["B"] < pos["D"] and pos["A"] < pos["C"] < pos["D"]
    coll = StepCollection(name="Coll", steps=[CustomStep("Coll-1"), CustomStep("Coll-2")])
    e = CustomStep("E", depends_on=["Coll"])
    graph = PipelineGraph([coll, e])
    assert graph.adjacency_list["Coll-2"] == ["E"]
    assert graph.get_steps_in_sub_dag(coll) == {"Coll-1", "Coll-2", "E"}


def test_pipeline_graph_cycle_and_errors():
    a = CustomStep("A", depends_on=["B"])
    b = CustomStep("B", depends_on=["A"])
    with pytest.raises(ValueError) as err:
        PipelineGraph([a, b])
    assert str(err.value) == "Cycle detected in pipeline step graph."
    x = CustomStep("X")
    y = CustomStep("Y", arguments={"v": x.properties.P}, depends_on=["Z"])
    z = CustomStep("Z", depends_on=[x])
    x.add_depends_on(["Y"])
    with pytest.raises(ValueError, match="Cycle detected"):
        PipelineGraph([x, y, z])
    with pytest.raises(ValueError, match="Step Missing is undefined."):
        PipelineGraph([CustomStep("Q", depends_on=["Missing"])])
    with pytest.raises(ValueError, match="duplicate names"):
        PipelineGraph([CustomStep("A"), CustomStep("A")])
    # Pipeline.definition() itself does not detect cycles (like the SDK)
    Pipeline(name="p", steps=[CustomStep("A", depends_on=["B"]), CustomStep("B", depends_on=["A"])]).definition()


def test_pipeline_graph_from_pipeline_and_json_get_validation():
    pipe = _minimal_pipeline()
    graph = PipelineGraph.from_pipeline(pipe)
    assert graph.adjacency_list == {
        "Prep": ["Train", "CheckLoss"],
        "Train": ["CheckLoss"],
        "CheckLoss": ["LossTooHigh"],
        "LossTooHigh": [],
    }
    assert [s.name for s in graph] == ["Prep", "Train", "CheckLoss", "LossTooHigh"]
    # JsonGet must point at a declared processing output
    bad = PropertyFile(name="Bad", output_name="nope", path="x.json")
    prep = CustomStep(
        "Prep",
        step_type=StepTypeEnum.PROCESSING,
        arguments={"ProcessingOutputConfig": {"Outputs": [{"OutputName": "metrics"}]}},
        property_files=[bad],
    )
    cond = ConditionStep(
        name="C", conditions=[ConditionEquals(JsonGet(step_name="Prep", property_file=bad, json_path="a"), 1)]
    )
    with pytest.raises(ValueError, match="Processing output name 'nope' defined in property file 'Bad'"):
        PipelineGraph.from_pipeline(Pipeline(name="p", steps=[prep, cond]))
    cond2 = ConditionStep(
        name="C",
        conditions=[ConditionEquals(JsonGet(step_name="Prep", property_file="Other", json_path="a"), 1)],
    )
    with pytest.raises(ValueError, match="Property file reference 'Other' is undefined in step 'Prep'"):
        PipelineGraph.from_pipeline(Pipeline(name="p", steps=[prep, cond2]))


# ---------------------------------------------------------------------------------------------
# Golden tests against real SDK 2.257.7 definitions
# ---------------------------------------------------------------------------------------------


def assert_same_definition(actual: dict, expected: dict):
    assert actual == expected
    assert json.dumps(actual) == json.dumps(expected)  # key order too


def assert_no_raw_expressions(obj):
    """Make sure hand-written arguments contain objects, not pre-rendered expression dicts."""
    if isinstance(obj, dict):
        assert not ({"Get", "Std:Join", "Std:JsonGet"} & set(obj)), obj
        for v in obj.values():
            assert_no_raw_expressions(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            assert_no_raw_expressions(v)


def test_golden_lambda_callback_emr_condition():
    p_n = ParameterInteger(name="N", default_value=3)
    p_s = ParameterString(name="Label")
    lam = LambdaStep(
        name="MyLambda",
        lambda_func=Lambda(function_arn="arn:aws:lambda:us-east-1:123456789012:function:my-fn", session=None),
        inputs={"n": p_n, "exec": ExecutionVariables.PIPELINE_EXECUTION_ARN},
        outputs=[
            LambdaOutput(output_name="count", output_type=LambdaOutputTypeEnum.Integer),
            LambdaOutput(output_name="msg"),
        ],
        cache_config=CacheConfig(enable_caching=True, expire_after="PT1H"),
    )
    cb = CallbackStep(
        name="MyCallback",
        sqs_queue_url="https://sqs.us-east-1.amazonaws.com/123456789012/my-queue",
        inputs={"label": p_s, "count": lam.properties.Outputs["count"]},
        outputs=[CallbackOutput(output_name="status", output_type=CallbackOutputTypeEnum.String)],
        display_name="Wait for approval",
    )
    emr = EMRStep(
        name="MyEMR",
        display_name="emr",
        description="spark job",
        cluster_id="j-123ABC",
        step_config=EMRStepConfig(jar="command-runner.jar", args=["spark-submit", "s3://my-bucket/job.py"]),
        depends_on=["MyCallback"],
    )
    fail = FailStep(
        name="TooFew",
        error_message=Join(
            on="",
            values=["count was ", lam.properties.Outputs["count"], " at ", ExecutionVariables.START_DATETIME],
        ),
    )
    cond = ConditionStep(
        name="EnoughItems",
        conditions=[ConditionGreaterThanOrEqualTo(left=lam.properties.Outputs["count"], right=p_n)],
        if_steps=[emr],
        else_steps=[fail],
    )
    pipe = Pipeline(
        name="MiscStepsPipeline",
        parameters=[p_n, p_s],
        steps=[lam, cb, cond],
        sagemaker_session=None,
        pipeline_experiment_config=PipelineExperimentConfig("MyExperiment", ExecutionVariables.PIPELINE_EXECUTION_ID),
    )
    actual = json.loads(pipe.definition())
    assert_same_definition(actual, load_fixture("lambda_callback_emr_condition.json"))
    # definition() is repeatable
    assert pipe.definition() == pipe.definition()


def _minimal_pipeline():
    fixture = load_fixture("minimal_processing_training_condition_fail.json")
    threshold = ParameterFloat(name="MaxLoss", default_value=0.5)
    raw = ParameterString(name="RawData", default_value="s3://my-bucket/raw/")
    report = PropertyFile(name="Metrics", output_name="metrics", path="metrics.json")

    prep_args = copy.deepcopy(fixture["Steps"][0]["Arguments"])
    prep_args["AppSpecification"]["ContainerArguments"] = ["--input", raw]
    assert_no_raw_expressions(prep_args)
    prep = CustomStep(
        "Prep",
        arguments=prep_args,
        step_type=StepTypeEnum.PROCESSING,
        property_files=[report],
        cache_config=CacheConfig(enable_caching=True, expire_after="PT12H"),
    )

    train_args = copy.deepcopy(fixture["Steps"][1]["Arguments"])
    train_args["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = (
        prep.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri
    )
    assert_no_raw_expressions(train_args)
    train = CustomStep(
        "Train",
        arguments=train_args,
        retry_policies=[StepRetryPolicy(exception_types=[StepExceptionTypeEnum.SERVICE_FAULT], max_attempts=2)],
    )

    fail = FailStep(name="LossTooHigh", error_message=Join(on=" ", values=["loss above", threshold]))
    check = ConditionStep(
        name="CheckLoss",
        conditions=[
            ConditionLessThanOrEqualTo(
                left=JsonGet(step_name="Prep", property_file=report, json_path="loss"), right=threshold
            )
        ],
        if_steps=[],
        else_steps=[fail],
        depends_on=[train],
    )
    return Pipeline(name="MiniPipeline", parameters=[threshold, raw], steps=[prep, train, check])


def test_golden_minimal_processing_training_condition_fail():
    pipe = _minimal_pipeline()
    actual = json.loads(pipe.definition())
    assert_same_definition(actual, load_fixture("minimal_processing_training_condition_fail.json"))


def test_golden_abalone_parameters_conditions_fail():
    fixture = load_fixture("abalone_processing_training_condition_fail.json")
    input_data = ParameterString(name="InputData", default_value="s3://my-bucket/abalone/abalone.csv")
    instance_type = ParameterString(
        name="TrainingInstanceType",
        default_value="ml.m5.xlarge",
        enum_values=["ml.m5.xlarge", "ml.m5.2xlarge"],
    )
    instance_count = ParameterInteger(name="ProcessingInstanceCount", default_value=1)
    mse_threshold = ParameterFloat(name="MseThreshold", default_value=6.0)
    skip_eval = ParameterBoolean(name="SkipEval", default_value=False)

    def default_output(step_name, output_name):
        return Join(
            on="/",
            values=[
                "s3:/",
                "my-bucket",
                "AbalonePipeline",
                ExecutionVariables.PIPELINE_EXECUTION_ID,
                step_name,
                "output",
                output_name,
            ],
        )

    # AbaloneProcess: hand-written Arguments with the pipeline variables in place
    process_args = copy.deepcopy(fixture["Steps"][0]["Arguments"])
    process_args["ProcessingResources"]["ClusterConfig"]["InstanceCount"] = instance_count
    process_args["ProcessingInputs"][0]["S3Input"]["S3Uri"] = input_data
    for output in process_args["ProcessingOutputConfig"]["Outputs"]:
        output["S3Output"]["S3Uri"] = default_output("AbaloneProcess", output["OutputName"])
    assert_no_raw_expressions(process_args)
    step_process = CustomStep(
        "AbaloneProcess",
        arguments=process_args,
        step_type=StepTypeEnum.PROCESSING,
        display_name="Preprocess abalone",
        description="Split raw data",
        cache_config=CacheConfig(enable_caching=True, expire_after="P30D"),
        retry_policies=[
            StepRetryPolicy(exception_types=[StepExceptionTypeEnum.THROTTLING], max_attempts=3),
            SageMakerJobStepRetryPolicy(
                exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR],
                interval_seconds=10,
                backoff_rate=2.0,
                expire_after_mins=60,
            ),
        ],
    )

    output_path = Join(on="/", values=["s3://my-bucket", ExecutionVariables.PIPELINE_EXECUTION_ID, "model"])
    train_args = copy.deepcopy(fixture["Steps"][1]["Arguments"])
    train_args["OutputDataConfig"]["S3OutputPath"] = output_path
    train_args["DebugHookConfig"]["S3OutputPath"] = output_path
    train_args["ResourceConfig"]["InstanceType"] = instance_type
    train_args["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = (
        step_process.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri
    )
    assert_no_raw_expressions(train_args)
    step_train = CustomStep("AbaloneTrain", arguments=train_args, cache_config=CacheConfig(enable_caching=False))

    eval_report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    eval_args = copy.deepcopy(fixture["Steps"][2]["Arguments"])
    eval_args["ProcessingInputs"][0]["S3Input"]["S3Uri"] = step_train.properties.ModelArtifacts.S3ModelArtifacts
    eval_args["ProcessingInputs"][1]["S3Input"]["S3Uri"] = step_process.properties.ProcessingOutputConfig.Outputs[
        "test"
    ].S3Output.S3Uri
    eval_args["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"] = default_output("AbaloneEval", "evaluation")
    assert_no_raw_expressions(eval_args)
    step_eval = CustomStep(
        "AbaloneEval", arguments=eval_args, step_type=StepTypeEnum.PROCESSING, property_files=[eval_report]
    )

    mse = JsonGet(step_name=step_eval.name, property_file=eval_report, json_path="regression_metrics.mse.value")
    step_fail = FailStep(
        name="AbaloneMSEFail",
        error_message=Join(on=" ", values=["Execution failed due to MSE >", mse_threshold]),
    )
    step_cond = ConditionStep(
        name="AbaloneMSECond",
        conditions=[
            ConditionLessThanOrEqualTo(left=mse, right=mse_threshold),
            ConditionOr(
                conditions=[
                    ConditionEquals(left=skip_eval, right=False),
                    ConditionIn(value=instance_type, in_values=["ml.m5.xlarge", "ml.m5.2xlarge"]),
                ]
            ),
            ConditionNot(
                expression=ConditionGreaterThan(
                    left=step_train.properties.FinalMetricDataList["validation:mse"].Value, right=100
                )
            ),
        ],
        if_steps=[],
        else_steps=[step_fail],
        depends_on=[step_eval],
    )

    pipeline = Pipeline(
        name="AbalonePipeline",
        parameters=[input_data, instance_type, instance_count, mse_threshold, skip_eval],
        steps=[step_process, step_train, step_eval, step_cond],
    )
    actual = json.loads(pipeline.definition())
    # Parameters, experiment config, each step object (incl. the Condition/Fail parts) and key order
    assert actual["Parameters"] == fixture["Parameters"]
    assert actual["PipelineExperimentConfig"] == fixture["PipelineExperimentConfig"]
    for got, want in zip(actual["Steps"], fixture["Steps"]):
        assert_same_definition(got, want)
    assert_same_definition(actual, fixture)
    # and the graph built from it is sane
    order = [s.name for s in PipelineGraph.from_pipeline(pipeline)]
    assert order.index("AbaloneProcess") < order.index("AbaloneTrain") < order.index("AbaloneEval")
    assert order.index("AbaloneEval") < order.index("AbaloneMSECond") < order.index("AbaloneMSEFail")


def test_golden_function_steps_shape():
    """The function_steps fixture's structural parts (order, DependsOn, condition) via fakes."""
    fixture = load_fixture("function_steps.json")
    generate, add, cond = _function_pipeline()
    actual = json.loads(Pipeline(name="FunctionStepPipeline", steps=[cond]).definition())
    assert [s["Name"] for s in actual["Steps"]] == [s["Name"] for s in fixture["Steps"]]
    assert actual["Parameters"] == fixture["Parameters"]
    assert actual["PipelineExperimentConfig"] == fixture["PipelineExperimentConfig"]
    assert_same_definition(actual["Steps"][0], fixture["Steps"][0])
    for got, want in zip(actual["Steps"], fixture["Steps"]):
        assert got.get("DependsOn") == want.get("DependsOn")
        assert got["Type"] == want["Type"]


def test_pipeline_variable_base_is_abstract():
    with pytest.raises(TypeError):
        PipelineVariable()
    with pytest.raises(TypeError):
        Step("x")
