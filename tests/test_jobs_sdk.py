"""The SageMaker SDK job surface (processing, estimators, models, transform, tuning) in sagepipe.

Golden comparisons: ``pipeline.definition()`` of the pipelines in ``jobs_sdk_lib`` against the
definitions the real SDK 2.257.7 produced for the same code (``fixtures/definitions`` and
``fixtures/sdk_jobs``). Only time stamps in job-name-derived S3 prefixes differ legitimately (the
SDK names the model repack job ``sagemaker-scikit-learn-<timestamp>``); those are normalised.
Nothing runs here: the definition is the contract with the engine.
"""

import json
import re
import tarfile
import warnings
from pathlib import Path

import jobs_sdk_lib as lib
import pytest
from sagepipe import image_uris
from sagepipe._code_hash import SIDECAR_SUFFIX, code_signature, normalized_file_hash
from sagepipe.estimator import Estimator
from sagepipe.exceptions import PipelineSessionRequiredError
from sagepipe.inputs import TrainingInput
from sagepipe.model import Model
from sagepipe.processing import ProcessingInput, Processor, ScriptProcessor
from sagepipe.s3 import S3Downloader, S3Uploader, s3_path_join
from sagepipe.session import Session
from sagepipe.sklearn import SKLearn
from sagepipe.transformer import Transformer
from sagepipe.tuner import ContinuousParameter, HyperparameterTuner
from sagepipe.workflow._repack_model import repack
from sagepipe.workflow.model_step import ModelStep
from sagepipe.workflow.parameters import ParameterString
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import LocalPipelineSession, PipelineSession
from sagepipe.workflow.retry import SageMakerJobExceptionTypeEnum, SageMakerJobStepRetryPolicy
from sagepipe.workflow.steps import ProcessingStep, TrainingStep, TransformStep, TuningStep

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}")

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")


@pytest.fixture
def sess(tmp_path):
    """A pipeline session whose default bucket is the generators' ``my-bucket``."""
    return PipelineSession(default_bucket="my-bucket", store=tmp_path / "store")


def definition(pipeline) -> dict:
    return json.loads(pipeline.definition())


def load(path) -> dict:
    return json.loads(Path(path).read_text())


def without_timestamps(obj) -> dict:
    return json.loads(TIMESTAMP.sub("<timestamp>", json.dumps(obj)))


# -- golden definitions ---------------------------------------------------------------------------


def test_abalone_definition_matches_sdk(sess, monkeypatch):
    monkeypatch.chdir(lib.ABALONE_DIR)
    expected = load(lib.FIXTURES / "definitions" / "abalone_processing_training_condition_fail.json")
    assert definition(lib.abalone(sess)) == expected


@pytest.mark.parametrize("legacy", [False, True], ids=["step_args", "legacy"])
def test_minimal_definition_matches_sdk(sess, legacy):
    expected = load(lib.FIXTURES / "definitions" / "minimal_processing_training_condition_fail.json")
    assert definition(lib.minimal(sess, legacy=legacy)) == expected


def test_tuning_model_register_transform_definition_matches_sdk(sess):
    expected = load(lib.FIXTURES / "definitions" / "tuning_model_register_transform.json")
    assert definition(lib.tuning_model_transform(sess)) == expected


def test_script_mode_definition_matches_sdk(sess, monkeypatch):
    monkeypatch.chdir(lib.SDK_JOBS_DIR)
    got = definition(lib.script_mode(sess))
    expected = load(lib.SDK_JOBS_DIR / "script_mode.json")
    assert without_timestamps(got) == without_timestamps(expected)
    # Only the repack job's generated name carries a time stamp.
    stamped = {s["Name"] for s in got["Steps"] if TIMESTAMP.search(json.dumps(s))}
    assert stamped == {"SKModel-RepackModel-0"}


def test_legacy_forms_definition_matches_sdk(sess):
    assert definition(lib.legacy_forms(sess)) == load(lib.SDK_JOBS_DIR / "legacy_forms.json")


def test_definition_is_accepted_by_the_engine(sess, monkeypatch):
    monkeypatch.chdir(lib.SDK_JOBS_DIR)
    pipeline = lib.script_mode(sess)
    response = pipeline.upsert(role_arn=lib.ROLE)
    assert response["PipelineArn"].endswith(":pipeline/ScriptMode")
    stored = json.loads(pipeline.describe()["PipelineDefinition"])
    assert [s["Name"] for s in stored["Steps"]] == [
        s["Name"] for s in load(lib.SDK_JOBS_DIR / "script_mode.json")["Steps"]
    ]


# -- code upload into the store ------------------------------------------------------------------


def store_file(sess, uri: str) -> Path:
    return Path(sess.store.uri_to_path(uri))


def test_processing_code_lands_in_store_with_sidecar(sess, monkeypatch):
    monkeypatch.chdir(lib.ABALONE_DIR)
    steps = definition(lib.abalone(sess))["Steps"]
    code_input = steps[0]["Arguments"]["ProcessingInputs"][-1]["S3Input"]
    uploaded = store_file(sess, code_input["S3Uri"])
    assert (
        uploaded
        == sess.store_root
        / "s3"
        / "my-bucket"
        / "AbalonePipeline"
        / "code"
        / ("7df44cc2db2d7b60ec07a0a0c62cfe333173dc49d12e8699c4f89872a7280363")
        / "preprocess.py"
    )
    assert uploaded.read_bytes() == (lib.ABALONE_DIR / "code" / "preprocess.py").read_bytes()
    sidecar = json.loads(uploaded.with_name("preprocess.py" + SIDECAR_SUFFIX).read_text())
    file_hash = normalized_file_hash("preprocess.py", uploaded.read_bytes())
    assert sidecar["files"] == {"preprocess.py": file_hash}
    assert sidecar == code_signature(uploaded)


def test_script_mode_sourcedir_tarball_and_sidecar(sess, monkeypatch):
    monkeypatch.chdir(lib.SDK_JOBS_DIR)
    steps = {s["Name"]: s for s in definition(lib.script_mode(sess))["Steps"]}
    hps = steps["TrainSK"]["Arguments"]["HyperParameters"]
    tarball = store_file(sess, json.loads(hps["sagemaker_submit_directory"]))
    with tarfile.open(tarball) as tar:
        assert sorted(tar.getnames()) == ["train.py", "util.py"]
        assert tar.extractfile("util.py").read() == (lib.SDK_JOBS_DIR / "code" / "src" / "util.py").read_bytes()
    sidecar = json.loads(tarball.with_name("sourcedir.tar.gz" + SIDECAR_SUFFIX).read_text())
    assert sorted(sidecar["files"]) == ["train.py", "util.py"]
    assert len(sidecar["normalized_sha256"]) == 64
    # XGBoost without source_dir: only the entry point, under its base name.
    xgb = json.loads(steps["TrainXGB"]["Arguments"]["HyperParameters"]["sagemaker_submit_directory"])
    with tarfile.open(store_file(sess, xgb)) as tar:
        assert tar.getnames() == ["train.py"]


def test_runtime_repack_packs_scripts_without_touching_user_dir(sess, monkeypatch):
    monkeypatch.chdir(lib.SDK_JOBS_DIR)
    before = sorted(p.name for p in (lib.SDK_JOBS_DIR / "code" / "serve").iterdir())
    steps = {s["Name"]: s for s in definition(lib.script_mode(sess))["Steps"]}
    repack_step = steps["SKModel-RepackModel-0"]
    assert repack_step["Type"] == "Training"
    assert steps["SKModel-CreateModel"]["Arguments"]["PrimaryContainer"]["ModelDataUrl"] == {
        "Get": "Steps.SKModel-RepackModel-0.ModelArtifacts.S3ModelArtifacts"
    }
    submit = json.loads(repack_step["Arguments"]["HyperParameters"]["sagemaker_submit_directory"])
    with tarfile.open(store_file(sess, submit)) as tar:
        assert sorted(tar.getnames()) == ["_repack_model.py", "_repack_script_launcher.sh", "inference.py"]
    assert sorted(p.name for p in (lib.SDK_JOBS_DIR / "code" / "serve").iterdir()) == before


def test_repack_script_repacks_a_model_archive(tmp_path):
    data, code, model = tmp_path / "data", tmp_path / "code", tmp_path / "model"
    for d in (data, code, model):
        d.mkdir()
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01")
    with tarfile.open(data / "model.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "weights.bin", arcname="weights.bin")
    (code / "inference.py").write_text("def model_fn(d):\n    return d\n")
    (code / "helper.py").write_text("X = 1\n")
    repack(
        "inference.py",
        "s3://b/job/output/model.tar.gz",
        dependencies="null",
        source_dir="code/serve",
        data_directory=str(data),
        code_directory=str(code),
        model_directory=str(model),
    )
    assert (model / "weights.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in (model / "code").iterdir()) == ["helper.py", "inference.py"]


def test_local_processing_inputs_are_uploaded_like_the_sdk(sess, tmp_path):
    data_dir = tmp_path / "raw"
    (data_dir / "sub").mkdir(parents=True)
    (data_dir / "a.csv").write_text("1,2\n")
    (data_dir / "sub" / "b.csv").write_text("3,4\n")
    single = tmp_path / "one.csv"
    single.write_text("5,6\n")
    processor = Processor(
        role=lib.ROLE,
        image_uri=lib.IMAGE,
        instance_count=1,
        instance_type="ml.m5.large",
        entrypoint=["python3", "x.py"],
        sagemaker_session=sess,
    )
    step = ProcessingStep(
        name="Local",
        step_args=processor.run(
            inputs=[
                ProcessingInput(source=str(data_dir), destination="/opt/ml/processing/raw"),
                ProcessingInput(source=f"file://{single}", destination="/opt/ml/processing/one", input_name="one"),
            ]
        ),
    )
    inputs = definition(Pipeline(name="P", steps=[step], sagemaker_session=sess))["Steps"][0]["Arguments"][
        "ProcessingInputs"
    ]
    assert [i["S3Input"]["S3Uri"] for i in inputs] == [
        "s3://my-bucket/P/Local/input/input-1",
        "s3://my-bucket/P/Local/input/one/one.csv",
    ]
    assert store_file(sess, "s3://my-bucket/P/Local/input/input-1/sub/b.csv").read_text() == "3,4\n"
    assert store_file(sess, "s3://my-bucket/P/Local/input/one/one.csv").read_text() == "5,6\n"


def test_code_sidecar_ignores_comment_and_whitespace_edits(sess, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "job.py"

    def uploaded_signature(source: str):
        script.write_text(source)
        proc = ScriptProcessor(
            role=lib.ROLE,
            image_uri=lib.IMAGE,
            command=["python3"],
            instance_count=1,
            instance_type="ml.m5.large",
            sagemaker_session=sess,
        )
        step = ProcessingStep(name="Job", step_args=proc.run(code="job.py"))
        uri = definition(Pipeline(name="P", steps=[step], sagemaker_session=sess))["Steps"][0]["Arguments"][
            "ProcessingInputs"
        ][0]["S3Input"]["S3Uri"]
        return uri, json.loads(store_file(sess, uri).with_name("job.py" + SIDECAR_SUFFIX).read_text())

    uri1, sig1 = uploaded_signature("x = 1\nprint(x)\n")
    uri2, sig2 = uploaded_signature("# a comment\nx  =  1\n\n\nprint( x )  # why\n")
    uri3, sig3 = uploaded_signature("x = 2\nprint(x)\n")
    assert len({uri1, uri2, uri3}) == 3  # the SDK's code prefix hashes raw bytes
    assert sig1["normalized_sha256"] == sig2["normalized_sha256"] != sig3["normalized_sha256"]


# -- properties ----------------------------------------------------------------------------------


def test_job_step_properties_produce_sdk_expressions(sess):
    steps = {}
    tune_pipeline = lib.tuning_model_transform(sess)
    for item in tune_pipeline.steps:
        steps[item.name] = item
    tune, create, register, batch = steps["Tune"], steps["BestModel"], steps["RegBest"], steps["BatchScore"]
    assert create.properties.ModelName.expr == {"Get": "Steps.BestModel-CreateModel.ModelName"}
    assert register.properties.ModelPackageArn.expr == {"Get": "Steps.RegBest-RegisterModel.ModelPackageArn"}
    assert batch.properties.TransformOutput.S3OutputPath.expr == {
        "Get": "Steps.BatchScore.TransformOutput.S3OutputPath"
    }
    assert tune.properties.BestTrainingJob.TrainingJobName.expr == {"Get": "Steps.Tune.BestTrainingJob.TrainingJobName"}
    train = TrainingStep(
        name="T",
        step_args=Estimator(
            image_uri=lib.IMAGE, role=lib.ROLE, instance_count=1, instance_type="ml.m5.large", sagemaker_session=sess
        ).fit(),
    )
    assert train.properties.TrainingJobName.expr == {"Get": "Steps.T.TrainingJobName"}
    assert train.properties.FinalMetricDataList["val:acc"].Value.expr == {
        "Get": "Steps.T.FinalMetricDataList['val:acc'].Value"
    }
    assert train.properties.ModelArtifacts.S3ModelArtifacts.expr == {"Get": "Steps.T.ModelArtifacts.S3ModelArtifacts"}
    proc = ProcessingStep(
        name="P",
        step_args=Processor(
            role=lib.ROLE, image_uri=lib.IMAGE, instance_count=1, instance_type="ml.m5.large", sagemaker_session=sess
        ).run(),
    )
    assert proc.properties.ProcessingOutputConfig.Outputs["train"].S3Output.S3Uri.expr == {
        "Get": "Steps.P.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }


def test_model_step_depends_on_goes_to_the_repack_step(sess, monkeypatch):
    monkeypatch.chdir(lib.SDK_JOBS_DIR)
    model = Model(
        image_uri=lib.IMAGE,
        model_data=ParameterString(name="ModelData"),
        role=lib.ROLE,
        entry_point="inference.py",
        source_dir="code/serve",
        sagemaker_session=sess,
    )
    plain = Model(image_uri=lib.IMAGE, model_data="s3://my-bucket/m.tar.gz", role=lib.ROLE, sagemaker_session=sess)
    first = ModelStep(name="First", step_args=plain.create())
    step = ModelStep(name="M", step_args=model.create(), depends_on=[first])
    assert [s.name for s in step.steps] == ["M-RepackModel-0", "M-CreateModel"]
    got = {
        s["Name"]: s
        for s in definition(
            Pipeline(
                name="P", parameters=[ParameterString(name="ModelData")], steps=[first, step], sagemaker_session=sess
            )
        )["Steps"]
    }
    assert got["M-RepackModel-0"]["DependsOn"] == ["First-CreateModel"]
    assert "DependsOn" not in got["M-CreateModel"]
    # A plain model (no entry point) needs no repack step.
    assert [s.name for s in first.steps] == ["First-CreateModel"]


# -- misuse --------------------------------------------------------------------------------------


def test_jobs_outside_a_pipeline_session_raise(tmp_path):
    plain = Session(default_bucket="my-bucket", store=tmp_path / "store")
    processor = Processor(
        role=lib.ROLE, image_uri=lib.IMAGE, instance_count=1, instance_type="ml.m5.large", sagemaker_session=plain
    )
    estimator = Estimator(
        image_uri=lib.IMAGE, role=lib.ROLE, instance_count=1, instance_type="ml.m5.large", sagemaker_session=plain
    )
    calls = [
        (processor.run, "ProcessingStep(step_args=processor.run"),
        (estimator.fit, "TrainingStep(step_args=estimator.fit"),
        (lambda: Transformer("m", 1, "ml.m5.large", sagemaker_session=plain).transform("s3://b/x"), "TransformStep"),
        (lambda: Model(image_uri=lib.IMAGE, role=lib.ROLE, sagemaker_session=plain).create(), "model.create"),
        (lambda: Model(image_uri=lib.IMAGE, role=lib.ROLE).register(), "model.register"),
        (lambda: HyperparameterTuner(estimator, "m", {"a": ContinuousParameter(0, 1)}).fit(), "TuningStep"),
    ]
    for call, hint in calls:
        with pytest.raises(PipelineSessionRequiredError, match="jobs run only as pipeline steps") as err:
            call()
        assert hint in str(err.value)
        assert isinstance(err.value, RuntimeError)
    assert list((tmp_path / "store").glob("s3/**/*")) == []  # nothing uploaded


def test_step_args_must_come_from_the_right_job(sess):
    estimator = Estimator(
        image_uri=lib.IMAGE, role=lib.ROLE, instance_count=1, instance_type="ml.m5.large", sagemaker_session=sess
    )
    processor = Processor(
        role=lib.ROLE, image_uri=lib.IMAGE, instance_count=1, instance_type="ml.m5.large", sagemaker_session=sess
    )
    with pytest.raises(ValueError, match="must be obtained from processor.run"):
        ProcessingStep(name="P", step_args=estimator.fit())
    with pytest.raises(ValueError, match="must be obtained from estimator.fit"):
        TrainingStep(name="T", step_args=processor.run())
    with pytest.raises(TypeError, match="must be obtained from transformer.transform"):
        TransformStep(name="X", step_args={"ModelName": "m"})
    with pytest.raises(ValueError, match="must be obtained from tuner.fit"):
        TuningStep(name="U", step_args=estimator.fit())
    with pytest.raises(ValueError, match="Either step_args or estimator"):
        TrainingStep(name="T")
    with pytest.raises(ValueError, match="either step_args or processor"):
        ProcessingStep(name="P", step_args=processor.run(), processor=processor)
    with pytest.raises(ValueError, match="ModelStep must be obtained from model.create"):
        ModelStep(name="M", step_args=estimator.fit())
    model = Model(image_uri=lib.IMAGE, model_data="s3://b/m.tar.gz", role=lib.ROLE, sagemaker_session=sess)
    policy = SageMakerJobStepRetryPolicy(exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR], max_attempts=2)
    with pytest.raises(ValueError, match="SageMakerJobStepRetryPolicy is not allowed"):
        ModelStep(name="M", step_args=model.create(), retry_policies=[policy])


def test_bad_code_and_inputs_fail_at_definition_with_clear_errors(sess, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    proc = ScriptProcessor(
        role=lib.ROLE,
        image_uri=lib.IMAGE,
        command=["python3"],
        instance_count=1,
        instance_type="ml.m5.large",
        sagemaker_session=sess,
    )
    missing = ProcessingStep(name="Missing", step_args=proc.run(code="nope.py"))
    with pytest.raises(ValueError, match="code nope.py wasn't found"):
        Pipeline(name="P", steps=[missing], sagemaker_session=sess).definition()
    variable = ProcessingStep(name="Var", step_args=proc.run(code=ParameterString(name="Code")))
    with pytest.raises(ValueError, match="rather than a pipeline variable"):
        Pipeline(name="P", steps=[variable], sagemaker_session=sess).definition()
    with pytest.raises(NotImplementedError, match="dataset_definition"):
        ProcessingInput(destination="/opt/ml/processing/x", dataset_definition=object())
    estimator = Estimator(
        image_uri=lib.IMAGE,
        role=lib.ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path="s3://my-bucket/o",
        sagemaker_session=sess,
    )
    step = TrainingStep(name="T", step_args=estimator.fit(inputs="file:///data/train"))
    with pytest.raises(ValueError, match="File URIs are supported in local mode only"):
        Pipeline(name="P", steps=[step], sagemaker_session=sess).definition()
    with pytest.raises(ValueError, match="An AWS IAM role is required"):
        Estimator(image_uri=lib.IMAGE, instance_count=1, instance_type="ml.m5.large", sagemaker_session=sess)
    bad_transform = TransformStep(
        name="X", step_args=Transformer("m", 1, "ml.m5.large", sagemaker_session=sess).transform("/local/data")
    )
    with pytest.raises(ValueError, match="Invalid S3 URI: /local/data"):
        Pipeline(name="P", steps=[bad_transform], sagemaker_session=sess).definition()
    with pytest.raises(AttributeError, match="does not support distributed training"):
        SKLearn(
            entry_point="t.py",
            framework_version="1.2-1",
            instance_count=2,
            instance_type="ml.m5.large",
            role=lib.ROLE,
            sagemaker_session=sess,
        )


def test_local_pipeline_session_accepts_file_channels(tmp_path):
    sess = LocalPipelineSession(default_bucket="my-bucket", store=tmp_path / "store")
    estimator = Estimator(
        image_uri=lib.IMAGE,
        role=lib.ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path="s3://my-bucket/o",
        sagemaker_session=sess,
        disable_profiler=True,
    )
    step = TrainingStep(name="T", step_args=estimator.fit(inputs={"train": "file:///data/train"}))
    args = definition(Pipeline(name="P", steps=[step], sagemaker_session=sess))["Steps"][0]["Arguments"]
    assert args["InputDataConfig"] == [
        {
            "DataSource": {
                "FileDataSource": {"FileDataDistributionType": "FullyReplicated", "FileUri": "file:///data/train"}
            },
            "ChannelName": "train",
        }
    ]


def test_custom_job_prefix_keeps_job_names(sess):
    from sagepipe.workflow.pipeline_definition_config import PipelineDefinitionConfig

    estimator = Estimator(
        image_uri=lib.IMAGE,
        role=lib.ROLE,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path="s3://my-bucket/o",
        sagemaker_session=sess,
        base_job_name="my-train",
    )
    step = TrainingStep(name="T", step_args=estimator.fit(inputs=TrainingInput("s3://my-bucket/t")))
    pipeline = Pipeline(
        name="P",
        steps=[step],
        sagemaker_session=sess,
        pipeline_definition_config=PipelineDefinitionConfig(use_custom_job_prefix=True),
    )
    assert definition(pipeline)["Steps"][0]["Arguments"]["TrainingJobName"] == "my-train"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert (
            "TrainingJobName"
            not in definition(Pipeline(name="P", steps=[step], sagemaker_session=sess))["Steps"][0]["Arguments"]
        )


# -- image URIs and S3 helpers -------------------------------------------------------------------


def test_image_uris_match_the_sdk():
    for case in load(lib.SDK_JOBS_DIR / "image_uris.json"):
        uri = image_uris.retrieve(
            case["framework"],
            case["region"],
            version=case["version"],
            py_version=case["py_version"],
            instance_type=case["instance_type"],
            image_scope=case["image_scope"],
        )
        assert uri == case["uri"], case


def test_image_uris_reject_unknown_inputs():
    with pytest.raises(ValueError, match="Unsupported framework: no-such-framework"):
        image_uris.retrieve("no-such-framework", "us-east-1", "1.9")
    with pytest.raises(ValueError, match="Unsupported region: mars-1"):
        image_uris.retrieve("xgboost", "mars-1", "1.7-1")
    with pytest.raises(ValueError, match="Unsupported xgboost version: 0.1"):
        image_uris.retrieve("xgboost", "us-east-1", "0.1")
    with pytest.raises(ValueError, match="should not be a pipeline variable"):
        image_uris.retrieve("xgboost", "us-east-1", ParameterString(name="V"))


def test_session_s3_objects_live_in_the_store(tmp_path):
    sess = Session(default_bucket="bkt", store=tmp_path / "store")
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "x.txt").write_text("x")
    (src / "d" / "y.py").write_text("y = 1  # c\n")
    assert sess.upload_data(str(src), key_prefix="up") == "s3://bkt/up"
    assert sess.upload_data(str(src / "x.txt"), bucket="other", key_prefix="k") == "s3://other/k/x.txt"
    assert sess.list_s3_files("bkt", "up/") == ["up/d/y.py", "up/x.txt"]  # sidecars are not objects
    assert (tmp_path / "store" / "s3" / "bkt" / "up" / "d" / ("y.py" + SIDECAR_SUFFIX)).is_file()
    assert sess.read_s3_file("bkt", "up/d/y.py") == "y = 1  # c\n"
    assert S3Downloader.read_file("s3://other/k/x.txt", sagemaker_session=sess) == "x"
    assert S3Downloader.list("s3://bkt/up", sagemaker_session=sess) == ["s3://bkt/up/d/y.py", "s3://bkt/up/x.txt"]
    out = tmp_path / "out"
    assert sorted(sess.download_data(str(out), "bkt", "up")) == [str(out / "d" / "y.py"), str(out / "x.txt")]
    assert (out / "d" / "y.py").read_text() == "y = 1  # c\n"
    uri = S3Uploader.upload_string_as_file_body("hello", "s3://bkt/a/b.txt", sagemaker_session=sess)
    assert uri == "s3://bkt/a/b.txt" and sess.read_s3_bytes("bkt", "a/b.txt") == b"hello"
    with pytest.raises(FileNotFoundError, match="s3://bkt/missing does not exist"):
        sess.read_s3_file("bkt", "missing")
    assert s3_path_join("s3://", "b", None, "", "p/", "/k") == "s3://b/p/k"


def test_model_network_isolation_parameter_stays_an_expression(sess):
    """Regression: model.create() turned a ParameterBoolean into a plain True."""
    from sagepipe.workflow.parameters import ParameterBoolean

    isolation = ParameterBoolean("Iso", default_value=False)
    model = Model(
        image_uri=lib.IMAGE,
        model_data="s3://my-bucket/m.tar.gz",
        role=lib.ROLE,
        enable_network_isolation=isolation,
        sagemaker_session=sess,
    )
    step = ModelStep(name="M", step_args=model.create())
    pipeline = Pipeline(name="P", parameters=[isolation], steps=[step], sagemaker_session=sess)
    args = definition(pipeline)["Steps"][0]["Arguments"]
    assert args["EnableNetworkIsolation"] == {"Get": "Parameters.Iso"}
