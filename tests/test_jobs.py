"""Processing, training, transform, model and register steps run as local jobs (no Docker):
the Abalone walkthrough end to end and both condition branches, script mode and the training
toolkit's environment, parallel jobs each with their own /opt/ml, stop, failure reasons, the
no-namespace fallback, the model registry and the image-runner extension point."""

import io
import json
import os
import pickle
import sys
import tarfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from jobs_lib import (
    BUCKET,
    MODEL_GROUP,
    PIPELINE,
    abalone_definition,
    channel,
    definition,
    get,
    model_step,
    processing_input,
    processing_output,
    processing_step,
    put_in_store,
    step_seconds,
    training_step,
    transform_step,
)
from sagepipe import local_runners, model_registry
from sagepipe.exceptions import ResourceNotFoundError, UnsupportedStepError, ValidationError
from sagepipe.workflow.pipeline import Pipeline

pytest.importorskip("xgboost")
pytest.importorskip("sklearn")


def _pipeline(session, name, defn) -> Pipeline:
    pipeline = Pipeline.from_definition(json.dumps(defn), name=name, sagemaker_session=session)
    pipeline.upsert(role_arn="any")
    return pipeline


def _steps(execution):
    return {s["StepName"]: s for s in execution.list_steps()}


def _path(session, uri: str) -> Path:
    return Path(session.store.uri_to_path(uri))


def _script(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


# --------------------------------------------------------------------------------------------
# The Abalone pipeline


@pytest.fixture(scope="module")
def abalone(tmp_path_factory):
    """One full Abalone run (default threshold) and one forced into the fail branch."""
    from sagepipe.workflow.pipeline_context import PipelineSession

    root = tmp_path_factory.mktemp("abalone")
    session = PipelineSession(store=root / "store")
    pipeline = _pipeline(session, PIPELINE, abalone_definition(Path(session.store.root)))
    started = time.perf_counter()
    full = pipeline.start()
    full.wait()
    full_seconds = time.perf_counter() - started
    failing = pipeline.start(parameters={"MseThreshold": 0.1})
    failing.wait()
    return session, full, failing, full_seconds


def test_abalone_full_run_succeeds(abalone):
    session, full, _, seconds = abalone
    steps = _steps(full)
    assert full.describe()["PipelineExecutionStatus"] == "Succeeded", {
        n: s.get("FailureReason") for n, s in steps.items()
    }
    assert set(steps) == {
        "AbaloneProcess",
        "AbaloneTrain",
        "AbaloneEval",
        "AbaloneMSECond",
        "AbaloneRegisterModel",
        "AbaloneCreateModel",
        "AbaloneTransform",
    }
    assert all(s["StepStatus"] == "Succeeded" for s in steps.values())
    assert steps["AbaloneMSECond"]["Metadata"] == {"Condition": {"Outcome": "True"}}
    print(f"\nAbalone full run: {seconds:.2f}s wall; steps: {step_seconds(full)}")


def test_abalone_processing_outputs_and_properties(abalone):
    session, full, _, _ = abalone
    rec = _steps(full)["AbaloneProcess"]
    assert rec["Metadata"]["ProcessingJob"]["Arn"].startswith("arn:aws:sagemaker:local:000000000000:processing-job/")
    records = {r["StepName"]: r for r in json.loads(session.store.load_steps(full.arn))}
    props = records["AbaloneProcess"]["Properties"]
    assert props["ProcessingJobStatus"] == "Completed"
    exec_id = full.arn.rsplit("/", 1)[1]
    outputs = {o["OutputName"]: o["S3Output"]["S3Uri"] for o in props["ProcessingOutputConfig"]["Outputs"]}
    assert outputs["train"] == f"s3://{BUCKET}/{PIPELINE}/{exec_id}/AbaloneProcess/output/train"
    rows = {
        name: len(_path(session, uri).joinpath(f"{name}.csv").read_text().splitlines()) for name, uri in outputs.items()
    }
    assert rows == {"train": 2923, "validation": 627, "test": 627, "batch": 627}
    assert "read 4177 rows" in full.logs("AbaloneProcess")
    # The staged input is a copy: the stored raw data is untouched.
    assert _path(session, f"s3://{BUCKET}/abalone/abalone.csv").read_text().count("\n") == 4177


def test_abalone_training_builtin_xgboost(abalone):
    session, full, _, _ = abalone
    records = {r["StepName"]: r for r in json.loads(session.store.load_steps(full.arn))}
    props = records["AbaloneTrain"]["Properties"]
    assert props["TrainingJobStatus"] == "Completed"
    job = props["TrainingJobName"]
    model_uri = props["ModelArtifacts"]["S3ModelArtifacts"]
    assert model_uri == f"s3://{BUCKET}/{PIPELINE}/AbaloneTrain/{job}/output/model.tar.gz"
    with tarfile.open(_path(session, model_uri)) as tar:
        assert tar.getnames() == ["xgboost-model"]
        booster = pickle.load(tar.extractfile("xgboost-model"))  # image 1.0-1: a pickled booster
    assert booster.num_boosted_rounds() == 50
    metrics = {m["MetricName"]: m["Value"] for m in props["FinalMetricDataList"]}
    assert {"train:rmse", "validation:rmse", "train:mse", "validation:mse"} <= set(metrics)
    assert metrics["validation:mse"] == pytest.approx(metrics["validation:rmse"] ** 2, rel=1e-3)
    log = full.logs("AbaloneTrain")
    assert "[49]\ttrain-rmse:" in log
    assert props["HyperParameters"]["objective"] == "reg:linear"  # recorded as requested


def test_abalone_evaluation_property_file_and_condition(abalone):
    session, full, _, _ = abalone
    records = {r["StepName"]: r for r in json.loads(session.store.load_steps(full.arn))}
    out = records["AbaloneEval"]["Properties"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    report = json.loads(_path(session, out).joinpath("evaluation.json").read_text())
    assert 0 < report["regression_metrics"]["mse"]["value"] < 6.0


def test_abalone_model_registry_and_transform(abalone):
    session, full, _, _ = abalone
    records = {r["StepName"]: r for r in json.loads(session.store.load_steps(full.arn))}
    model_name = records["AbaloneCreateModel"]["Properties"]["ModelName"]
    assert records["AbaloneCreateModel"]["Metadata"]["Model"]["Arn"].endswith(f"model/{model_name.lower()}")
    described = model_registry.describe_model(model_name, sagemaker_session=session)
    assert (
        described["PrimaryContainer"]["ModelDataUrl"]
        == records["AbaloneTrain"]["Properties"]["ModelArtifacts"]["S3ModelArtifacts"]
    )

    package = records["AbaloneRegisterModel"]["Properties"]
    arn = f"arn:aws:sagemaker:local:000000000000:model-package/{MODEL_GROUP}/1"
    assert package["ModelPackageArn"] == arn
    assert records["AbaloneRegisterModel"]["Metadata"] == {"RegisterModel": {"Arn": arn}}
    groups = model_registry.list_model_package_groups(sagemaker_session=session)["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in groups] == [MODEL_GROUP]
    listed = model_registry.list_model_packages(MODEL_GROUP, sagemaker_session=session)["ModelPackageSummaryList"]
    assert [(p["ModelPackageVersion"], p["ModelApprovalStatus"]) for p in listed] == [(1, "PendingManualApproval")]
    d = model_registry.describe_model_package(arn, sagemaker_session=session)
    stats_uri = d["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"]
    assert json.loads(_path(session, stats_uri).read_text())["regression_metrics"]["mse"]["value"] > 0
    assert d["CustomerMetadataProperties"] == {"dataset": "abalone"}
    assert d["CreationTime"].tzinfo is not None

    transform = records["AbaloneTransform"]["Properties"]
    assert transform["TransformJobStatus"] == "Completed"
    out_dir = _path(session, transform["TransformOutput"]["S3OutputPath"])
    predictions = [float(x) for x in (out_dir / "batch.csv.out").read_text().split()]
    assert len(predictions) == 627 and 3 < sum(predictions) / len(predictions) < 20


def test_registry_updates_and_errors(abalone):
    session = abalone[0]
    arn = f"arn:aws:sagemaker:local:000000000000:model-package/{MODEL_GROUP}/1"
    assert model_registry.update_model_package(arn, model_approval_status="Approved", sagemaker_session=session) == {
        "ModelPackageArn": arn,
        "ResponseMetadata": model_registry.describe_model_package(arn, sagemaker_session=session)["ResponseMetadata"],
    }
    approved = model_registry.list_model_packages(
        MODEL_GROUP, sagemaker_session=session, model_approval_status="Approved"
    )
    assert [p["ModelPackageArn"] for p in approved["ModelPackageSummaryList"]] == [arn]
    with pytest.raises(ValidationError, match="Maybe"):
        model_registry.update_model_package(arn, model_approval_status="Maybe", sagemaker_session=session)
    with pytest.raises(ResourceNotFoundError, match="did you mean"):
        model_registry.list_model_packages(MODEL_GROUP[:-1], sagemaker_session=session)
    with pytest.raises(ResourceNotFoundError):
        model_registry.describe_model_package(f"{MODEL_GROUP}/9", sagemaker_session=session)


def test_registry_through_the_boto3_shaped_client(abalone):
    import sagepipe

    session = abalone[0]
    sm = sagepipe.client(sagemaker_session=session)
    packages = sm.list_model_packages(ModelPackageGroupName=MODEL_GROUP)["ModelPackageSummaryList"]
    arn = packages[0]["ModelPackageArn"]
    assert sm.describe_model_package(ModelPackageName=arn)["ModelPackageGroupName"] == MODEL_GROUP
    assert sm.list_model_package_groups()["ModelPackageGroupSummaryList"][0]["ModelPackageGroupName"] == MODEL_GROUP
    sm.update_model_package(ModelPackageArn=arn, ApprovalDescription="checked")
    assert sm.describe_model_package(ModelPackageName=arn)["ApprovalDescription"] == "checked"
    with pytest.raises(sm.exceptions.ClientError) as info:
        sm.describe_model_package(ModelPackageName=f"{MODEL_GROUP}/7")
    assert info.value.response["Error"]["Code"] == "ResourceNotFound"


def test_abalone_threshold_forces_fail_branch(abalone):
    session, _, failing, _ = abalone
    d = failing.describe()
    assert d["PipelineExecutionStatus"] == "Failed"
    assert d["FailureReason"] == "Execution failed due to MSE > 0.1"
    steps = _steps(failing)
    assert steps["AbaloneMSECond"]["Metadata"] == {"Condition": {"Outcome": "False"}}
    assert steps["AbaloneMSEFail"]["StepStatus"] == "Failed"
    assert not {"AbaloneRegisterModel", "AbaloneCreateModel", "AbaloneTransform"} & set(steps)


# --------------------------------------------------------------------------------------------
# Script mode and the training toolkit's environment

TRAIN_SCRIPT = """
import argparse, json, os, subprocess, sys

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int)
parser.add_argument("--learning-rate", type=float)
parser.add_argument("--label", type=str)
parser.add_argument("--flag", type=str)
args = parser.parse_args()
sm = {k: v for k, v in os.environ.items() if k.startswith("SM_") or k.startswith("TRAINING_JOB")}
with open("/opt/ml/input/config/hyperparameters.json") as f:
    raw_hps = json.load(f)
rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "data.csv")).read().split()
python_on_path = subprocess.run(["python", "-c", "import sys; print(sys.executable)"],
                                capture_output=True, text=True, check=True).stdout.strip()
for epoch in range(args.epochs):
    print(f"epoch={epoch} loss={1.0 / (epoch + 1)}")
report = {"argv": sys.argv[1:], "sm": sm, "raw_hps": raw_hps, "rows": len(rows), "cwd": os.getcwd(),
          "python": sys.executable, "python_on_path": python_on_path, "helper": open("helper.txt").read()}
with open(os.path.join(os.environ["SM_MODEL_DIR"], "report.json"), "w") as f:
    json.dump(report, f)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
    json.dump({"scale": 2.0}, f)
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "extra.txt"), "w") as f:
    f.write("extra")
"""

INFERENCE_SCRIPT = """
import json, os

def model_fn(model_dir):
    with open(os.path.join(model_dir, "model.json")) as f:
        return json.load(f)

def input_fn(body, content_type):
    assert isinstance(body, str) and content_type == "text/csv"
    return [float(x) for x in body.split()]

def predict_fn(data, model):
    return [x * model["scale"] for x in data]

def output_fn(prediction, accept):
    return "\\n".join(str(p) for p in prediction)
"""


def _sourcedir(store_root: Path, uri: str, files: dict) -> str:
    dest = Path(store_root) / "s3" / uri[len("s3://") :]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz") as tar:
        for name, text in files.items():
            data = textwrap.dedent(text).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return uri


def _script_mode_definition(session, tmp_path):
    root = Path(session.store.root)
    source = _sourcedir(
        root,
        f"s3://{BUCKET}/sm/code/sourcedir.tar.gz",
        {"train.py": TRAIN_SCRIPT, "inference.py": INFERENCE_SCRIPT, "helper.txt": "from the source dir"},
    )
    put_in_store(root, f"s3://{BUCKET}/sm/data/train/data.csv", _script(tmp_path, "data.csv", "1\n2\n3\n"))
    put_in_store(root, f"s3://{BUCKET}/sm/batch/in.csv", _script(tmp_path, "in.csv", "1\n2\n3\n4\n"))
    # Framework estimators JSON-encode hyperparameter values (SDK 2.257 Framework._json_encode).
    hps = {
        "epochs": "3",
        "learning-rate": "0.05",
        "label": '"rings"',
        "flag": "true",
        "sagemaker_program": '"train.py"',
        "sagemaker_submit_directory": f'"{source}"',
        "sagemaker_container_log_level": "20",
        "sagemaker_region": '"us-east-1"',
    }
    train = training_step(
        "Train",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        hps,
        [channel("train", f"s3://{BUCKET}/sm/data/train")],
        f"s3://{BUCKET}/sm/model",
        metric_definitions=[{"Name": "train:loss", "Regex": r"loss=([0-9\.]+)"}],
        environment={"MY_VAR": "mine"},
    )
    model = model_step(
        "Model",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        get("Steps.Train.ModelArtifacts.S3ModelArtifacts"),
        {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": source},
    )
    transform = transform_step(
        "Score", get("Steps.Model.ModelName"), f"s3://{BUCKET}/sm/batch", f"s3://{BUCKET}/sm/scored"
    )
    joined = transform_step(
        "ScoreJoined", get("Steps.Model.ModelName"), f"s3://{BUCKET}/sm/batch", f"s3://{BUCKET}/sm/joined", "Input"
    )
    return definition([train, model, transform, joined])


def test_script_mode_training_sees_the_toolkit_contract(session, tmp_path):
    pipeline = _pipeline(session, "ScriptMode", _script_mode_definition(session, tmp_path))
    execution = pipeline.start()
    execution.wait()
    steps = _steps(execution)
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", {
        n: s.get("FailureReason") for n, s in steps.items()
    }
    records = {r["StepName"]: r for r in json.loads(session.store.load_steps(execution.arn))}
    props = records["Train"]["Properties"]
    with tarfile.open(_path(session, props["ModelArtifacts"]["S3ModelArtifacts"])) as tar:
        report = json.load(tar.extractfile("report.json"))
    assert report["argv"] == ["--epochs", "3", "--flag", "True", "--label", "rings", "--learning-rate", "0.05"]
    sm = report["sm"]
    assert sm["SM_MODEL_DIR"] == "/opt/ml/model"
    assert sm["SM_CHANNEL_TRAIN"] == "/opt/ml/input/data/train"
    assert sm["SM_CHANNELS"] == '["train"]'
    assert json.loads(sm["SM_HPS"]) == {"epochs": 3, "flag": True, "label": "rings", "learning-rate": 0.05}
    assert sm["SM_HP_EPOCHS"] == "3" and sm["SM_HP_LABEL"] == "rings" and sm["SM_HP_FLAG"] == "true"
    assert sm["SM_OUTPUT_DATA_DIR"] == "/opt/ml/output/data"
    assert sm["SM_INPUT_CONFIG_DIR"] == "/opt/ml/input/config"
    assert sm["SM_USER_ENTRY_POINT"] == "train.py" and sm["SM_MODULE_NAME"] == "train"
    assert sm["SM_MODULE_DIR"] == f"s3://{BUCKET}/sm/code/sourcedir.tar.gz"
    assert json.loads(sm["SM_HOSTS"]) == ["algo-1"] and sm["SM_CURRENT_HOST"] == "algo-1"
    assert int(sm["SM_NUM_CPUS"]) >= 1 and sm["SM_NUM_GPUS"] == "0"
    training_env = json.loads(sm["SM_TRAINING_ENV"])
    assert training_env["hyperparameters"]["epochs"] == 3
    assert training_env["additional_framework_parameters"]["sagemaker_region"] == "us-east-1"
    assert sm["TRAINING_JOB_NAME"] == props["TrainingJobName"]
    assert report["raw_hps"]["epochs"] == "3"  # hyperparameters.json keeps the strings
    assert report["rows"] == 3 and report["cwd"] == "/opt/ml/code" and report["helper"] == "from the source dir"
    assert report["python"] == report["python_on_path"] == sys.executable
    assert {m["MetricName"]: m["Value"] for m in props["FinalMetricDataList"]} == {"train:loss": pytest.approx(1 / 3)}
    output_tar = props["ModelArtifacts"]["S3ModelArtifacts"].replace("model.tar.gz", "output.tar.gz")
    with tarfile.open(_path(session, output_tar)) as tar:
        assert tar.extractfile("extra.txt").read() == b"extra"
    # The script-mode model served by batch transform (model_fn/input_fn/predict_fn/output_fn).
    scored = _path(session, f"s3://{BUCKET}/sm/scored/in.csv.out").read_text().split()
    assert [float(x) for x in scored] == [2.0, 4.0, 6.0, 8.0]
    joined = _path(session, f"s3://{BUCKET}/sm/joined/in.csv.out").read_text().split()
    assert joined == ["1,2.0", "2,4.0", "3,6.0", "4,8.0"]
    assert records["Score"]["Metadata"]["TransformJob"]["Arn"].startswith(
        "arn:aws:sagemaker:local:000000000000:transform-job/"
    )


# --------------------------------------------------------------------------------------------
# Isolation, stop, failures


WRITER = """
import os, sys, time
name = sys.argv[1]
out = "/opt/ml/processing/output"
with open(os.path.join(out, "who.txt"), "w") as f:
    f.write(name)
time.sleep(1.0)
assert open(os.path.join(out, "who.txt")).read() == name, "another job wrote into my /opt/ml"
assert os.listdir(out) == ["who.txt"], os.listdir(out)
assert os.path.isdir("/opt/ml/processing/input/code")
print("done", name)
"""


def test_parallel_jobs_each_have_their_own_opt_ml(session, tmp_path):
    code = put_in_store(
        Path(session.store.root), f"s3://{BUCKET}/par/code/writer.py", _script(tmp_path, "writer.py", WRITER)
    )
    steps = [
        processing_step(
            name,
            ["python3", "/opt/ml/processing/input/code/writer.py"],
            [processing_input("code", code, "/opt/ml/processing/input/code")],
            [processing_output("out", f"s3://{BUCKET}/par/{name}", "/opt/ml/processing/output")],
            arguments=[name],
        )
        for name in ("Left", "Right")
    ]
    execution = _pipeline(session, "Parallel", definition(steps)).start()
    execution.wait()
    recs = _steps(execution)
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", {
        n: s.get("FailureReason") for n, s in recs.items()
    }
    for name in ("Left", "Right"):
        assert _path(session, f"s3://{BUCKET}/par/{name}/who.txt").read_text() == name
    left, right = recs["Left"], recs["Right"]
    assert left["StartTime"] < right["EndTime"] and right["StartTime"] < left["EndTime"], "the jobs did not overlap"


SLEEPER = """
import subprocess, sys, time
child = subprocess.Popen(["sleep", "60"])
with open(sys.argv[1], "w") as f:
    f.write(f"{child.pid}")
time.sleep(60)
"""


def test_stop_kills_the_job_and_its_children(session, tmp_path):
    pid_file = tmp_path / "pid.txt"
    code = put_in_store(
        Path(session.store.root), f"s3://{BUCKET}/stop/sleeper.py", _script(tmp_path, "sleeper.py", SLEEPER)
    )
    step = processing_step(
        "Sleep",
        ["python3", "/opt/ml/processing/input/code/sleeper.py", str(pid_file)],
        [processing_input("code", code, "/opt/ml/processing/input/code")],
        [],
    )
    execution = _pipeline(session, "Stopper", definition([step])).start()
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    grandchild = int(pid_file.read_text())
    execution.stop()
    execution.wait()
    assert execution.describe()["PipelineExecutionStatus"] == "Stopped"
    assert _steps(execution)["Sleep"]["StepStatus"] == "Stopped"
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), "the job's child survived stop()"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_failing_script_last_lines_in_failure_reason(session, tmp_path):
    script = _script(
        tmp_path,
        "fails.py",
        """
        for i in range(30):
            print(f"line {i}")
        raise ValueError("boom")
    """,
    )
    step = processing_step("Breaks", ["python3", str(script)], [], [])
    execution = _pipeline(session, "Breaks", definition([step])).start()
    execution.wait()
    rec = _steps(execution)["Breaks"]
    reason = rec["FailureReason"]
    assert rec["StepStatus"] == "Failed"
    assert "AlgorithmError: the job exited with code 1" in reason
    assert "ValueError: boom" in reason and "line 29" in reason and "line 5\n" not in reason
    assert "line 0" in execution.logs("Breaks")


def _hostile_archive(store_root: Path, uri: str, members: list) -> str:
    """A .tar.gz in the store with raw members: (name, text) for files, (name, "->target") for symlinks."""
    dest = Path(store_root) / "s3" / uri[len("s3://") :]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz") as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            if content.startswith("->"):
                info.type, info.linkname = tarfile.SYMTYPE, content[2:]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content.encode()))
    return uri


def test_archive_members_escaping_the_job_fail_the_step_and_write_nothing(session, tmp_path):
    """Issue 6 (hostile input): model.tar.gz and sourcedir.tar.gz members that climb out of the
    extraction directory, are absolute, or hide behind a symlink fail their step with the member
    named, before anything of the archive is written."""
    root = Path(session.store.root)
    marker = f"sagepipe-escape-{uuid.uuid4().hex}"
    climb = "../" * 40 + marker
    model = _hostile_archive(root, f"s3://{BUCKET}/hostile/model.tar.gz", [("ok.txt", "fine"), (climb, "out")])
    source = _hostile_archive(
        root,
        f"s3://{BUCKET}/hostile/sourcedir.tar.gz",
        [("train.py", "print('never runs')"), ("up", "->" + "../" * 40 + "tmp"), (f"up/{marker}", "out")],
    )
    put_in_store(root, f"s3://{BUCKET}/hostile/data/train/data.csv", _script(tmp_path, "data.csv", "1\n"))
    put_in_store(root, f"s3://{BUCKET}/hostile/batch/in.csv", _script(tmp_path, "in.csv", "1\n"))
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    scoring = [
        model_step("HostileModel", image, model, {"SAGEMAKER_PROGRAM": "inference.py"}),
        transform_step(
            "Score",
            get("Steps.HostileModel.ModelName"),
            f"s3://{BUCKET}/hostile/batch",
            f"s3://{BUCKET}/hostile/scored",
        ),
    ]
    training = [
        training_step(
            "Train",
            image,
            {"sagemaker_program": '"train.py"', "sagemaker_submit_directory": f'"{source}"'},
            [channel("train", f"s3://{BUCKET}/hostile/data/train")],
            f"s3://{BUCKET}/hostile/model-out",
        ),
    ]
    # Two executions: in one, a failed Train keeps Score from ever starting when it fails
    # before HostileModel ends (no step starts once one has failed).
    scored = _pipeline(session, "HostileModelArchive", definition(scoring)).start()
    execution = _pipeline(session, "HostileSourceArchive", definition(training)).start()
    scored.wait()
    execution.wait()
    assert scored.describe()["PipelineExecutionStatus"] == "Failed"
    assert execution.describe()["PipelineExecutionStatus"] == "Failed"
    score, train = _steps(scored)["Score"], _steps(execution)["Train"]
    assert score["StepStatus"] == "Failed" and train["StepStatus"] == "Failed", (score, train)
    assert f"archive member '{climb}' refused" in score["FailureReason"], score["FailureReason"]
    assert model in score["FailureReason"]
    assert "archive member 'up' refused: it links to '../../" in train["FailureReason"], train["FailureReason"]
    assert "never runs" not in execution.logs("Train")
    # Where the members would have landed: forty "../" from any job directory reach "/".
    assert not (Path("/") / marker).exists() and not (Path("/tmp") / marker).exists()
    # os.walk, not glob: finished jobs' directories are deleted in the background meanwhile.
    assert not [d for d, dirs, files in os.walk(tmp_path.parent) if marker in dirs or marker in files]
    assert not list((root / "s3" / BUCKET / "hostile").glob("scored/*"))


def test_job_exceeding_max_runtime_is_killed(session, tmp_path):
    script = _script(tmp_path, "slow.py", "import time\nprint('working', flush=True)\ntime.sleep(30)\n")
    step = processing_step("Slow", ["python3", str(script)], [], [], max_runtime=1)
    execution = _pipeline(session, "Slow", definition([step])).start()
    execution.wait()
    reason = _steps(execution)["Slow"]["FailureReason"]
    assert "MaxRuntimeExceeded" in reason and "working" in reason


def test_huge_max_runtime_is_no_limit_not_a_hang(session, tmp_path):
    """Regression: a MaxRuntimeInSeconds too large for a Duration panicked the step's engine
    thread, and the execution then waited forever."""
    script = _script(tmp_path, "quick.py", "print('done', flush=True)\n")
    step = processing_step("Quick", ["python3", str(script)], [], [], max_runtime=10**300)
    execution = _pipeline(session, "Quick", definition([step])).start()
    execution.wait(delay=1, max_attempts=60)
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", _steps(execution)


# --------------------------------------------------------------------------------------------
# Without namespaces


ARG_WRITER = """
import argparse, os
p = argparse.ArgumentParser()
p.add_argument("--out")
a = p.parse_args()
with open(os.path.join(a.out, "result.txt"), "w") as f:
    f.write(a.out)
"""


def test_fallback_rewrites_paths_and_refuses_hardcoded_ones(session, tmp_path, monkeypatch):
    monkeypatch.setenv("SAGEPIPE_SANDBOX", "paths")
    root = Path(session.store.root)
    good = put_in_store(root, f"s3://{BUCKET}/fb/good.py", _script(tmp_path, "good.py", ARG_WRITER))
    bad = put_in_store(root, f"s3://{BUCKET}/fb/bad.py", _script(tmp_path, "bad.py", WRITER))
    steps = [
        processing_step(
            "ByArgs",
            ["python3", "/opt/ml/processing/input/code/good.py"],
            [processing_input("code", good, "/opt/ml/processing/input/code")],
            [processing_output("out", f"s3://{BUCKET}/fb/out", "/opt/ml/processing/output")],
            arguments=["--out", "/opt/ml/processing/output"],
        ),
        processing_step(
            "HardCoded",
            ["python3", "/opt/ml/processing/input/code/bad.py"],
            [processing_input("code", bad, "/opt/ml/processing/input/code")],
            [processing_output("out", f"s3://{BUCKET}/fb/bad", "/opt/ml/processing/output")],
            arguments=["x"],
        ),
    ]
    execution = _pipeline(session, "Fallback", definition(steps)).start()
    execution.wait()
    recs = _steps(execution)
    assert recs["ByArgs"]["StepStatus"] == "Succeeded", recs["ByArgs"].get("FailureReason")
    written = _path(session, f"s3://{BUCKET}/fb/out/result.txt").read_text()
    assert written.endswith("/ml/processing/output") and not written.startswith("/opt/ml")
    reason = recs["HardCoded"]["FailureReason"]
    assert recs["HardCoded"]["StepStatus"] == "Failed"
    assert "'HardCoded'" in reason and "bad.py hard-codes /opt/ml" in reason and "SAGEPIPE_SANDBOX=paths" in reason


# --------------------------------------------------------------------------------------------
# The image-runner extension point


RUNNER = """
import os
rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "data.csv")).read().split()
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
    f.write(f"{len(rows)} rows, {os.environ['SM_HP_ALPHA']}")
print("my algorithm trained")
"""


def test_unknown_image_fails_at_start_until_a_runner_is_registered(session, tmp_path):
    root = Path(session.store.root)
    put_in_store(root, f"s3://{BUCKET}/algo/train/data.csv", _script(tmp_path, "data.csv", "1\n2\n"))
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-algo:3"
    step = training_step(
        "Custom", image, {"alpha": "0.5"}, [channel("train", f"s3://{BUCKET}/algo/train")], f"s3://{BUCKET}/algo/model"
    )
    pipeline = _pipeline(session, "Custom", definition([step]))
    with pytest.raises(UnsupportedStepError) as info:
        pipeline.start()
    assert "'Custom'" in str(info.value) and image in str(info.value) and "register_image" in str(info.value)

    runner = _script(tmp_path, "runner.py", RUNNER)
    local_runners.register_image(r"/my-algo:", command=["python3", str(runner)])
    try:
        execution = pipeline.start()
        execution.wait()
    finally:
        local_runners.unregister_image(r"/my-algo:")
    rec = _steps(execution)["Custom"]
    assert rec["StepStatus"] == "Succeeded", rec.get("FailureReason")
    props = json.loads(session.store.load_steps(execution.arn))[0]["Properties"]
    with tarfile.open(_path(session, props["ModelArtifacts"]["S3ModelArtifacts"])) as tar:
        assert tar.extractfile("model.txt").read() == b"2 rows, 0.5"
    with pytest.raises(ValueError, match="not a valid regex"):
        local_runners.register_image("(", command=["x"])
    with pytest.raises(ValueError, match="needs a command"):
        local_runners.register_image("x", command=[])
