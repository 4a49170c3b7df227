"""``@step`` and the remote-function modules it shares with the SDK: job settings resolved from
the decorator and the SageMaker config, the cloudpickle serializer, the SDK's argument errors and
default display name, and the JSON-output flag per pipeline."""

import json
from typing import Tuple

import pytest
from sagepipe.local import LocalSession
from sagepipe.remote_function.core.serialization import (
    CloudpickleSerializer,
    deserialize_obj_from_s3,
    serialize_obj_to_s3,
)
from sagepipe.remote_function.errors import DeserializationError, SerializationError
from sagepipe.remote_function.job import _JobSettings
from sagepipe.session_settings import SessionSettings
from sagepipe.workflow.condition_step import ConditionStep
from sagepipe.workflow.conditions import ConditionEquals
from sagepipe.workflow.function_step import get_step, step
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession, _PipelineConfig
from sagepipe.workflow.utilities import load_step_compilation_context, step_compilation_context_manager

RF = {
    "SchemaVersion": "1.0",
    "SageMaker": {
        "PythonSDK": {
            "Modules": {
                "RemoteFunction": {
                    "ImageUri": "111.dkr.ecr.us-west-2.amazonaws.com/config-image:1",
                    "InstanceType": "ml.c5.xlarge",
                    "RoleArn": "arn:aws:iam::111:role/ConfigRole",
                    "EnvironmentVariables": {"FROM_CONFIG": "yes"},
                    "Tags": [{"Key": "team", "Value": "config"}],
                    "VpcConfig": {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]},
                }
            }
        }
    },
}


def _definition(pipeline):
    return json.loads(pipeline.definition())


def _training_args(pipeline, name):
    return next(s for s in _definition(pipeline)["Steps"] if s["Name"] == name)["Arguments"]


def test_job_settings_take_the_config_when_the_decorator_is_silent(tmp_path):
    session = PipelineSession(store=tmp_path / "store", sagemaker_config=RF)
    settings = _JobSettings(
        sagemaker_session=session, instance_type="ml.m5.2xlarge", tags=[{"Key": "team", "Value": "me"}]
    )
    assert settings.image_uri == "111.dkr.ecr.us-west-2.amazonaws.com/config-image:1"
    assert settings.instance_type == "ml.m5.2xlarge"  # the decorator's wins
    assert settings.role == "arn:aws:iam::111:role/ConfigRole"
    assert settings.environment_variables == {"FROM_CONFIG": "yes", "AWS_DEFAULT_REGION": session.boto_region_name}
    assert settings.tags == [{"Key": "team", "Value": "me"}]  # the caller's key is not duplicated
    assert settings.vpc_config == {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    assert settings.s3_root_uri == f"s3://{session.default_bucket()}"

    plain = _JobSettings(
        sagemaker_session=PipelineSession(store=tmp_path / "store", sagemaker_config={"SchemaVersion": "1.0"})
    )
    assert plain.image_uri.startswith("sagepipe-local/python:")
    assert plain.vpc_config is None and plain.tags is None
    with pytest.raises(ValueError, match="Only one of pre_execution_commands or pre_execution_script"):
        _JobSettings(sagemaker_session=session, pre_execution_commands=["true"], pre_execution_script="x.sh")


def test_step_definition_and_run_use_the_config_defaults(tmp_path):
    session = PipelineSession(store=tmp_path / "store", sagemaker_config=RF)

    @step(name="Double", environment_variables={"MINE": "1"})
    def double(x):
        import os

        return x * 2, os.environ.get("MINE")

    pipeline = Pipeline(name="rf-config", steps=[double(21)], sagemaker_session=session)
    args = _training_args(pipeline, "Double")
    assert args["AlgorithmSpecification"]["TrainingImage"] == "111.dkr.ecr.us-west-2.amazonaws.com/config-image:1"
    assert args["ResourceConfig"]["InstanceType"] == "ml.c5.xlarge"
    assert args["RoleArn"] == "arn:aws:iam::111:role/ConfigRole"
    assert args["Environment"] == {"MINE": "1", "AWS_DEFAULT_REGION": session.boto_region_name}
    assert args["VpcConfig"] == {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}
    assert args["Tags"] == [{"Key": "team", "Value": "config"}]

    execution = pipeline.start()
    execution.wait()
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded"
    assert execution.result("Double") == (42, "1")
    # The same result through the SDK's reader of stored objects.
    uri = _training_args(pipeline, "Double")["OutputDataConfig"]["S3OutputPath"]
    values = [execution.arn.rsplit("/", 1)[-1] if isinstance(v, dict) else v for v in uri["Std:Join"]["Values"]]
    assert deserialize_obj_from_s3(session, "/".join(values)) == (42, "1")


def test_serializer_round_trip_and_errors(tmp_path):
    session = PipelineSession(store=tmp_path / "store")
    data = CloudpickleSerializer.serialize(lambda x: x + 1)
    assert CloudpickleSerializer.deserialize("s3://b/k", data)(1) == 2
    with pytest.raises(SerializationError, match=r"\[generator\]"):
        CloudpickleSerializer.serialize(i for i in range(3))
    with pytest.raises(DeserializationError, match="s3://b/bad"):
        CloudpickleSerializer.deserialize("s3://b/bad", b"not a pickle")
    serialize_obj_to_s3({"a": [1, 2]}, session, "s3://bucket/objects/one")
    assert (tmp_path / "store" / "s3" / "bucket" / "objects" / "one" / "payload.pkl").is_file()
    assert deserialize_obj_from_s3(session, "s3://bucket/objects/one") == {"a": [1, 2]}
    with pytest.raises(DeserializationError, match="does not exist"):
        deserialize_obj_from_s3(session, "s3://bucket/objects/none")


@step
def three(a, b, c=1, *, d, e, f=3):
    return a * b * c * d * e * f


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((1, 2, 3), {}, "three() missing 2 required keyword-only arguments: 'd', and 'e'"),
        ((1, 2, 3), {"d": 4}, "three() missing 1 required keyword-only argument: 'e'"),
        ((1, 2), {"d": 1, "e": 1, "g": 0}, "three() got an unexpected keyword argument 'g'"),
        ((), {"d": 1, "e": 1}, "three() missing 2 required positional arguments: 'a', and 'b'"),
        ((1,), {"d": 1, "e": 1}, "three() missing 1 required positional argument: 'b'"),
        ((1, 2, 3, 4), {"d": 1, "e": 1}, "three() takes 3 positional arguments but 4 were given."),
        ((1, 2), {"b": 5, "d": 1, "e": 1}, "three() got multiple values for argument 'b'"),
    ],
)
def test_step_argument_errors_are_the_sdks(args, kwargs, message):
    with pytest.raises(TypeError) as raised:
        three(*args, **kwargs)
    assert str(raised.value) == message


def test_step_defaults_and_delayed_return_rules():
    @step
    def pair() -> Tuple[int, int]:
        """Two numbers."""
        return 1, 2

    out = pair()
    function_step = get_step(out)
    assert function_step.display_name == f"{__name__}.pair"  # module + name, not qualname
    assert function_step.description == "Two numbers."
    assert function_step.name.startswith("pair-") and len(function_step.name) <= 63
    assert out[1]._reference_path == (("__getitem__", 1),)
    with pytest.raises(TypeError, match="Expected an integer"):
        out["key"]
    with pytest.raises(NotImplementedError):
        list(out)
    with pytest.raises(ValueError, match="Use add_depends_on"):
        function_step.depends_on = []
    with pytest.raises(ValueError, match="Auto Capture"):
        step(dependencies="auto_capture")(lambda: 1)


def test_same_function_step_gets_each_pipelines_json_flag(session):
    @step(name="Source")
    def source():
        return 1

    out = source()
    with_condition = Pipeline(
        name="reads-it",
        steps=[ConditionStep(name="Check", conditions=[ConditionEquals(left=out, right=1)])],
        sagemaker_session=session,
    )
    alone = Pipeline(name="alone", steps=[out], sagemaker_session=session)

    def flag(pipeline):
        args = _training_args(pipeline, "Source")["AlgorithmSpecification"]["ContainerArguments"]
        return "--serialize_output_to_json" in args

    assert flag(with_condition) is True
    assert flag(alone) is False
    assert flag(with_condition) is True
    execution = alone.start()
    execution.wait()
    assert execution.result("Source") == 1


def test_pipeline_config_is_the_compilation_context():
    with step_compilation_context_manager("p", "s", code_hash="c", pipeline_build_time="t") as context:
        assert isinstance(context, _PipelineConfig)
        assert load_step_compilation_context() is context
        assert (context.pipeline_name, context.step_name, context.pipeline_build_time) == ("p", "s", "t")
    assert load_step_compilation_context() is None
    # SDK positional order: ..., pipeline_definition_config, pipeline_build_time, upload flags
    config = _PipelineConfig("p", "s", None, "code", "config", None, "build", False, True)
    assert (config.pipeline_build_time, config.upload_runtime_scripts, config.upload_workspace) == (
        "build",
        False,
        True,
    )


def test_local_session_runs_a_pipeline(tmp_path):
    import sagepipe

    assert sagepipe.LocalSession is LocalSession  # the SDK's top-level name
    session = LocalSession(store=tmp_path / "store", default_bucket="local-bucket")
    assert session.local_mode is True
    assert isinstance(session.settings, SessionSettings) and session.settings.encrypt_repacked_artifacts is True

    @step(name="Hello")
    def hello():
        return "hi"

    pipeline = Pipeline(name="local-session", steps=[hello()], sagemaker_session=session)
    assert _training_args(pipeline, "Hello")["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"].startswith(
        "s3://local-bucket/local-session/"
    )
    execution = pipeline.start()
    execution.wait()
    assert execution.result("Hello") == "hi"


def test_remote_runs_the_function_in_a_job_process(tmp_path):
    import os

    from sagepipe.remote_function import remote

    session = PipelineSession(store=tmp_path / "store", sagemaker_config=RF)

    @remote(sagemaker_session=session, environment_variables={"GREETING": "hello"}, job_name_prefix="greet")
    def greet(name, punctuation="!"):
        return f"{os.environ['GREETING']} {name}{punctuation}", os.getpid()

    text, pid = greet("world")
    assert text == "hello world!" and pid != os.getpid()
    jobs = list((tmp_path / "store" / "s3" / session.default_bucket()).iterdir())
    assert len(jobs) == 1 and jobs[0].name.startswith("greet-")
    assert {p.name for p in jobs[0].iterdir()} == {"function", "arguments", "results"}

    @remote(sagemaker_session=session)
    def fail(x):
        raise KeyError(f"missing {x}")

    with pytest.raises(KeyError, match="missing 3"):
        fail(3)
    with pytest.raises(TypeError, match=r"fail\(\) missing 1 required positional argument: 'x'"):
        fail()

    # Settings fail where the function is decorated, as in the SDK, not at its first call.
    with pytest.raises(ValueError, match="dependencies cannot be applied locally"):

        @remote(sagemaker_session=session, dependencies="requirements.txt")
        def needs_packages():
            return 1

    with pytest.raises(TypeError, match="instnace_type"):

        @remote(sagemaker_session=session, instnace_type="ml.m5.large")
        def misspelt():
            return 1


def test_collect_parameters_sets_every_argument():
    from sagepipe.workflow.utilities import _collect_parameters

    class Base:
        def __init__(self, a):
            self.a = a

    class Collected(Base):
        @_collect_parameters
        def __init__(self, a, b, c="default", depends_on=None):
            super().__init__(a * 10)

    obj = Collected(1, b=2, depends_on=["x"])
    assert (obj.a, obj.b, obj.c) == (10, 2, "default")  # the method ran after the collection
    assert not hasattr(obj, "depends_on")
