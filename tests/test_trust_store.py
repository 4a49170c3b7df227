"""Trust, round 2 (issue 13), the store's part: gc never deletes what something kept still refers
to (by place, not by spelling), nor a registered model; a start runs exactly the definition it
stored; a pipeline is not deleted under a running execution; one unreadable record is isolated;
gc and starts exclude each other; typed validation errors where the service gives them.

Real pipelines (processing jobs, training + RegisterModel) on a temporary store, real
subprocesses for the races.
"""

import json
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest
import store_lib
from jobs_lib import (
    channel,
    definition,
    get,
    join,
    processing_input,
    processing_output,
    processing_step,
    put_in_store,
    training_step,
)
from sagepipe import _gc, model_registry
from sagepipe.client import ClientError
from sagepipe.exceptions import ConflictError, StoreError, StoreWarning
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

TESTS = Path(__file__).resolve().parent
BUCKET = "b"
# A processing job that writes one file into its output directory: argv = dir, file name, text.
WRITE = (
    "import os, sys; os.makedirs(sys.argv[1], exist_ok=True); "
    "open(os.path.join(sys.argv[1], sys.argv[2]), 'w').write(sys.argv[3])"
)
OUT = "/opt/ml/processing/out"


def writer(step: str, uri, filename: str = "part.csv", text: str = "data") -> dict:
    """A processing step writing `filename` to the S3 location `uri` (its only output)."""
    entrypoint = ["python3", "-c", WRITE, OUT, filename, text]
    return processing_step(step, entrypoint, [], [processing_output("out", uri, OUT)])


def pipeline(session, name: str, steps: list) -> Pipeline:
    p = Pipeline.from_definition(json.dumps(definition(steps)), name=name, sagemaker_session=session)
    p.upsert(role_arn="any")
    return p


def run(p: Pipeline):
    execution = p.start()
    execution.wait(delay=0.05, max_attempts=20 * 60 * 5)
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", [
        (s["StepName"], s.get("FailureReason")) for s in execution.list_steps()
    ]
    return execution


def s3(session, key: str) -> Path:
    return Path(session.store.root) / "s3" / BUCKET / key


def collect(session, keep: int, **kwargs) -> _gc.GcPlan:
    return _gc.apply(session.store, _gc.plan(session.store, keep=keep, **kwargs))


# --------------------------------------------------------------------------------------------
# 3. gc compares places, not spellings, and by containment


@pytest.mark.parametrize(
    "old_uri, kept_uri",
    [
        (f"s3://{BUCKET}/proj/", f"s3://{BUCKET}/proj"),  # same place, trailing slash
        (f"s3://{BUCKET}//proj", f"s3://{BUCKET}/proj"),  # same place, doubled slash
        (f"s3://{BUCKET}/proj", f"s3://{BUCKET}/proj/sub"),  # the old output contains the kept one
    ],
    ids=["trailing-slash", "double-slash", "parent-prefix"],
)
def test_gc_keeps_a_kept_artifact_spelled_differently_or_nested(session, old_uri, kept_uri):
    old = run(pipeline(session, "Old", [writer("Write", old_uri, "old.csv")]))
    kept = run(pipeline(session, "Old", [writer("Write", kept_uri, "kept.csv")]))
    kept_file = Path(session.store.uri_to_path(kept_uri)) / "kept.csv"
    assert kept_file.read_text() == "data"

    gc_plan = _gc.plan(session.store, keep=1)
    assert gc_plan.delete == [old.arn]
    assert gc_plan.artifacts == []
    (why,) = gc_plan.kept_artifacts.values()
    assert kept.arn.rsplit("/", 1)[-1] in why, why
    collect(session, keep=1)
    assert kept_file.read_text() == "data", "gc deleted the kept execution's output"
    assert [e["PipelineExecutionArn"] for e in json.loads(session.store.list_executions("Old"))] == [kept.arn]


def test_gc_never_deletes_a_bucket_or_another_pipelines_outputs_or_an_upload(session, tmp_path):
    """An old run that wrote to the bucket root: gc used to delete the whole bucket."""
    upload = tmp_path / "upload.csv"
    upload.write_text("the user's own file")
    uploaded = put_in_store(session.store.root, f"s3://{BUCKET}/uploads/upload.csv", upload)
    reader = processing_step(
        "Read",
        ["python3", "-c", "import sys; print(open(sys.argv[1]).read())", "/opt/ml/processing/in/upload.csv"],
        [
            {
                "InputName": "in",
                "AppManaged": False,
                "S3Input": {
                    "S3Uri": uploaded,
                    "LocalPath": "/opt/ml/processing/in",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
        ],
        [],
    )
    run(pipeline(session, "Other", [reader, writer("Write", f"s3://{BUCKET}/other/out", "other.csv")]))
    run(pipeline(session, "Wide", [writer("Write", f"s3://{BUCKET}/", "wide.csv")]))
    run(pipeline(session, "Wide", [writer("Write", f"s3://{BUCKET}/wide-now", "now.csv")]))
    # Another old execution whose output is a sub-folder nothing else refers to: that one goes.
    run(pipeline(session, "Wide", [writer("Write", f"s3://{BUCKET}/scratch/run3", "tmp.csv")]))
    run(pipeline(session, "Wide", [writer("Write", f"s3://{BUCKET}/wide-now", "now.csv")]))

    gc_plan = _gc.plan(session.store, keep=1)
    assert gc_plan.artifacts == [f"s3://{BUCKET}/scratch/run3"]
    assert "a whole bucket" in gc_plan.kept_artifacts[f"s3://{BUCKET}/"]
    collect(session, keep=1)
    assert s3(session, "uploads/upload.csv").read_text() == "the user's own file"
    assert (s3(session, "other/out") / "other.csv").exists()
    assert (s3(session, "wide-now") / "now.csv").exists()
    assert not s3(session, "scratch/run3").exists()


def test_gc_keeps_an_old_output_a_later_run_reads_as_input(session):
    """`contains`/`lies inside` also hold for inputs: a kept run that reads an old run's output."""
    run(pipeline(session, "Produce", [writer("Write", f"s3://{BUCKET}/shared/data", "rows.csv")]))
    reader = processing_step(
        "Read",
        ["python3", "-c", "import os; print(os.listdir('/opt/ml/processing/in'))"],
        [
            {
                "InputName": "in",
                "AppManaged": False,
                "S3Input": {
                    "S3Uri": f"s3://{BUCKET}/shared/data/rows.csv",
                    "LocalPath": "/opt/ml/processing/in",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                    "S3DataDistributionType": "FullyReplicated",
                },
            }
        ],
        [],
    )
    run(pipeline(session, "Produce", [reader]))
    gc_plan = _gc.plan(session.store, keep=1)
    collect(session, keep=1)
    assert (s3(session, "shared/data") / "rows.csv").exists()
    assert "contains s3://b/shared/data/rows.csv" in gc_plan.kept_artifacts[f"s3://{BUCKET}/shared/data"]


# --------------------------------------------------------------------------------------------
# 4. gc keeps what the model registry and CreateModel records refer to

TRAIN = """
import os
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
    f.write("weights")
"""


def _register_pipeline(session, tmp_path) -> Pipeline:
    import io
    import tarfile

    source_uri = f"s3://{BUCKET}/code/sourcedir.tar.gz"
    dest = Path(session.store.root) / "s3" / BUCKET / "code" / "sourcedir.tar.gz"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz") as tar:
        data = textwrap.dedent(TRAIN).encode()
        info = tarfile.TarInfo("train.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (tmp_path / "d.csv").write_text("1\n")
    put_in_store(session.store.root, f"s3://{BUCKET}/data/train/d.csv", tmp_path / "d.csv")
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    train = training_step(
        "Train",
        image,
        {"sagemaker_program": '"train.py"', "sagemaker_submit_directory": f'"{source_uri}"'},
        [channel("train", f"s3://{BUCKET}/data/train")],
        f"s3://{BUCKET}/models",
    )
    register = {
        "Name": "Register",
        "Type": "RegisterModel",
        "Arguments": {
            "ModelPackageGroupName": "TrustModels",
            "InferenceSpecification": {
                "Containers": [{"Image": image, "ModelDataUrl": get("Steps.Train.ModelArtifacts.S3ModelArtifacts")}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "ModelApprovalStatus": "PendingManualApproval",
        },
    }
    return pipeline(session, "Registered", [train, register])


def test_gc_keeps_a_registered_models_artifact(session, tmp_path):
    p = _register_pipeline(session, tmp_path)
    first = run(p)
    run(p)
    packages = model_registry.list_model_packages("TrustModels", sagemaker_session=session)["ModelPackageSummaryList"]
    assert len(packages) == 2
    model_registry.update_model_package(
        packages[0]["ModelPackageArn"], model_approval_status="Approved", sagemaker_session=session
    )
    approved = model_registry.describe_model_package(packages[0]["ModelPackageArn"], sagemaker_session=session)
    model_uri = approved["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    model_path = Path(session.store.uri_to_path(model_uri))
    assert model_path.is_file()
    trained = {s["StepName"]: s for s in first.list_steps()}["Train"]
    assert model_uri == first._step_record("Train")["Properties"]["ModelArtifacts"]["S3ModelArtifacts"], trained

    gc_plan = _gc.plan(session.store, keep=1)
    assert gc_plan.delete == [first.arn]
    assert model_uri not in gc_plan.artifacts
    why = gc_plan.kept_artifacts[model_uri]
    assert "model package TrustModels/1" in why, why
    # `sagepipe gc --dry-run` says why, too.
    cli = subprocess.run(
        [sys.executable, "-m", "sagepipe.cli", "gc", "--store", str(session.store.root), "--keep", "1", "--dry-run"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    assert model_uri in cli.stdout and "model package TrustModels/1" in cli.stdout, cli.stdout
    collect(session, keep=1)
    assert model_path.is_file(), "gc deleted the Approved version's model.tar.gz"


# --------------------------------------------------------------------------------------------
# 11. a file:// output does not make gc fail on every run


def test_gc_is_not_stuck_on_a_file_output(session, tmp_path):
    host_dir = tmp_path / "host-out"
    run(pipeline(session, "Local", [writer("Write", f"file://{host_dir}", "x.csv")]))
    run(pipeline(session, "Local", [writer("Write", f"s3://{BUCKET}/local2", "x.csv")]))
    reasons = [collect(session, keep=1).kept_artifacts]
    reasons.append(collect(session, keep=1).kept_artifacts)  # again: nothing left that blocks the next one
    assert "outside the store" in reasons[0][f"file://{host_dir}"]
    assert (host_dir / "x.csv").read_text() == "data"
    assert len(json.loads(session.store.list_executions("Local"))) == 1


# --------------------------------------------------------------------------------------------
# 6. start() runs the definition it stored, whatever another process stores meanwhile

RACER = """
import json, os, sys, time
sys.path.insert(0, sys.argv[4])
from jobs_lib import definition
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession

store, label, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
session = PipelineSession(store=store)
fail = {"Name": f"Only{label}", "Type": "Fail", "Arguments": {"ErrorMessage": label}}
text = json.dumps(definition([fail]))
pipeline = Pipeline.from_definition(text, name="Raced", sagemaker_session=session)
print("READY", flush=True)
while not os.path.exists(sys.argv[5]):  # both processes start at once
    time.sleep(0.01)
wrong = 0
executions = [pipeline.start() for _ in range(rounds)]  # back to back: the other process does the same
for execution in executions:
    if session.store.execution_definition(execution.arn) != text:
        wrong += 1
for execution in executions:
    execution.wait(delay=0.05, max_attempts=2400)
print(json.dumps({"wrong": wrong}))
"""


def test_concurrent_starts_each_run_their_own_definition(tmp_path):
    store, go = tmp_path / "store", tmp_path / "go"
    rounds = 60
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(store), label, str(rounds), str(TESTS), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for label in ("A", "B")
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "READY", proc.stderr.read() if proc.poll() is not None else ""
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["wrong"] for r in results] == [0, 0], results


# --------------------------------------------------------------------------------------------
# 9. DeletePipeline while an execution runs is a conflict


SLOW = "import time, pathlib, sys; pathlib.Path(sys.argv[1]).touch(); time.sleep(600)"


def test_delete_pipeline_while_an_execution_runs_is_a_conflict(session, tmp_path):
    started = tmp_path / "started"
    slow = processing_step("Slow", ["python3", "-c", SLOW, str(started)], [], [])
    p = pipeline(session, "Busy", [slow])
    execution = p.start()
    deadline = time.monotonic() + 120
    while not started.exists():
        assert time.monotonic() < deadline, "the slow step never started"
        time.sleep(0.05)
    sm = __import__("sagepipe").client(sagemaker_session=session)
    with pytest.raises(ClientError) as caught:
        sm.delete_pipeline(PipelineName="Busy")
    assert caught.value.response["Error"]["Code"] == "ConflictException"
    assert execution.arn in caught.value.response["Error"]["Message"]
    with pytest.raises(ConflictError):
        p.delete()
    assert sm.describe_pipeline(PipelineName="Busy")["PipelineName"] == "Busy"
    execution.stop()
    execution.wait(delay=0.05, max_attempts=20 * 120)
    assert execution.describe()["PipelineExecutionStatus"] == "Stopped"
    sm.delete_pipeline(PipelineName="Busy")
    assert store_lib.record_paths(session.store.root, "pipelines/Busy/") == []
    assert not (Path(session.store.root) / "pipelines" / "Busy").exists()


# --------------------------------------------------------------------------------------------
# 10. one unreadable record is isolated


def test_a_truncated_execution_record_breaks_nothing_else(session):
    p = pipeline(session, "Damaged", [writer("Write", f"s3://{BUCKET}/damaged", "x.csv")])
    broken, fine = run(p), run(p)
    other = pipeline(session, "Healthy", [writer("Write", f"s3://{BUCKET}/healthy", "x.csv")])
    old_other, _ = run(other), run(other)
    root = session.store.root
    record = f"pipelines/Damaged/executions/{broken.arn.rsplit('/', 1)[-1]}/"
    store_lib.truncate_record(root, record + "execution.json")

    with pytest.warns(StoreWarning, match="execution.json"):
        listed = p.list_executions()["PipelineExecutionSummaries"]
    assert [s["PipelineExecutionArn"] for s in listed] == [fine.arn]
    sm = __import__("sagepipe").client(sagemaker_session=session)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StoreWarning)
        arn = sm.start_pipeline_execution(PipelineName="Damaged")["PipelineExecutionArn"]
    assert arn != fine.arn
    with pytest.raises(StoreError):
        broken.describe()  # the damaged record itself says it is damaged
    cli = subprocess.run(
        [sys.executable, "-m", "sagepipe.cli", "executions", "--store", str(session.store.root), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    assert fine.arn in cli.stdout and old_other.arn in cli.stdout
    assert "execution.json" in cli.stderr
    __import__("sagepipe").workflow._execution._PipelineExecution(arn, session).wait(delay=0.05, max_attempts=2400)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StoreWarning)
        gc_plan = _gc.plan(session.store, keep=1)
        assert old_other.arn in gc_plan.delete and fine.arn in gc_plan.delete
        assert any("execution.json" in u["Path"] for u in gc_plan.unreadable)
        collect(session, keep=1)
    assert store_lib.read_record(root, record + "execution.json") is not None, "gc left the unreadable record in place"
    # Removable, on request.
    cli = subprocess.run(
        [sys.executable, "-m", "sagepipe.cli", "gc", "--store", str(session.store.root), "--remove-unreadable"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr
    assert "removed unreadable record" in cli.stdout and "execution.json" in cli.stdout, cli.stdout
    assert store_lib.record_paths(root, record) == [] and not (Path(root) / record).exists()
    assert json.loads(session.store.unreadable_records()) == []


def test_gc_keeps_an_execution_with_an_unreadable_step_record_and_what_it_names(session):
    p = pipeline(session, "StepDamage", [writer("Write", f"s3://{BUCKET}/step-damage/a", "x.csv")])
    damaged = run(p)
    p = pipeline(session, "StepDamage", [writer("Write", f"s3://{BUCKET}/step-damage/b", "x.csv")])
    old = run(p)
    run(pipeline(session, "StepDamage", [writer("Write", f"s3://{BUCKET}/step-damage/c", "x.csv")]))
    step = f"pipelines/StepDamage/executions/{damaged.arn.rsplit('/', 1)[-1]}/steps/Write.json"
    text = store_lib.read_record(session.store.root, step)
    cut = text[: text.index(b"step-damage/a") + len(b"step-damage/a")]  # cut after the URI
    store_lib.write_record(session.store.root, step, cut)

    gc_plan = collect(session, keep=1)
    assert gc_plan.delete == [old.arn]
    assert gc_plan.keep[damaged.arn] == "some of its step records cannot be read"
    assert any(u["Path"].endswith("Write.json") for u in gc_plan.unreadable)
    assert (s3(session, "step-damage/a") / "x.csv").exists()
    assert not s3(session, "step-damage/b").exists()


def test_gc_keeps_what_an_execution_with_an_unreadable_record_reuses(session):
    """A selective run whose execution.json is damaged stays, and so do the run it reused and
    that run's outputs (its readable step records say so), not only the damaged file's text."""
    per_run = {"Get": "Execution.PipelineExecutionId"}
    a_out = join(f"s3://{BUCKET}/exec-damage", per_run, "a")
    reader = (
        "import os, shutil, sys; os.makedirs(sys.argv[2], exist_ok=True); "
        "shutil.copy(os.path.join(sys.argv[1], 'x.csv'), sys.argv[2])"
    )
    steps = [
        writer("A", a_out, "x.csv"),
        processing_step(
            "B",
            ["python3", "-c", reader, "/opt/ml/processing/in", OUT],
            [processing_input("in", get("Steps.A.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"),
                              "/opt/ml/processing/in")],
            [processing_output("out", join(f"s3://{BUCKET}/exec-damage", per_run, "b"), OUT)],
        ),
    ]  # fmt: skip
    p = pipeline(session, "ExecDamage", steps)
    reference = run(p)
    selective = p.start(
        selective_execution_config=SelectiveExecutionConfig(
            source_pipeline_execution_arn=reference.arn, selected_steps=["B"]
        )
    )
    selective.wait(delay=0.05, max_attempts=20 * 60 * 5)
    assert selective.describe()["PipelineExecutionStatus"] == "Succeeded"
    run(p)  # the newest
    reference_id, selective_id = (e.arn.rsplit("/", 1)[-1] for e in (reference, selective))
    store_lib.truncate_record(session.store.root, f"pipelines/ExecDamage/executions/{selective_id}/execution.json")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StoreWarning)
        gc_plan = collect(session, keep=1)
    assert gc_plan.delete == []
    assert gc_plan.keep[reference.arn] == f"reused by kept execution {selective_id}"
    assert gc_plan.keep[selective.arn] == "its execution record cannot be read"
    assert (s3(session, f"exec-damage/{reference_id}/a") / "x.csv").exists()


def test_a_truncated_pipeline_record_can_be_deleted_and_hides_nothing_else(session):
    run(pipeline(session, "Broken", [writer("Write", f"s3://{BUCKET}/broken", "x.csv")]))
    pipeline(session, "Intact", [writer("Write", f"s3://{BUCKET}/intact", "x.csv")])
    store_lib.truncate_record(session.store.root, "pipelines/Broken/pipeline.json")
    sm = __import__("sagepipe").client(sagemaker_session=session)
    with pytest.warns(StoreWarning, match="pipeline.json"):
        names = [s["PipelineName"] for s in sm.list_pipelines()["PipelineSummaries"]]
    assert names == ["Intact"]
    sm.delete_pipeline(PipelineName="Broken")
    assert store_lib.record_paths(session.store.root, "pipelines/Broken/") == []
    assert not (Path(session.store.root) / "pipelines" / "Broken").exists()


def test_a_truncated_definition_is_a_store_error_naming_the_file(session):
    execution = run(pipeline(session, "Defn", [writer("Write", f"s3://{BUCKET}/defn", "x.csv")]))
    path = f"pipelines/Defn/executions/{execution.arn.rsplit('/', 1)[-1]}/definition.json"
    store_lib.truncate_record(session.store.root, path)
    sm = __import__("sagepipe").client(sagemaker_session=session)
    with pytest.raises(ClientError) as caught:
        sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution.arn)
    assert "definition.json" in caught.value.response["Error"]["Message"]
    with pytest.raises(StoreError, match="definition.json"):
        execution.result("Write")
    store_lib.truncate_record(session.store.root, "pipelines/Defn/versions/1.json")
    with pytest.raises(ClientError, match="corrupt store record .*1.json"):
        sm.describe_pipeline(PipelineName="Defn")


# --------------------------------------------------------------------------------------------
# 11. gc and starts share the store lock; low items of the gc: trash, concurrent collections

HOLD_LOCK = """
import sys, time
from sagepipe import _core
with _core.Store(sys.argv[1]).exclusive_lock():
    print("HELD", flush=True)
    time.sleep(float(sys.argv[2]))
    print(time.time(), flush=True)  # the moment just before the lock is given up
"""


def test_a_start_waits_while_gc_holds_the_store_lock(session):
    p = pipeline(session, "Locked", [writer("Write", f"s3://{BUCKET}/locked", "x.csv")])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(session.store.root), "2"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "HELD"
        execution = p.start()
        started = time.time()
        released = float(holder.stdout.readline())
        assert started >= released, "the start did not wait for the collection's lock"
        execution.wait(delay=0.05, max_attempts=2400)
    finally:
        holder.kill()
        holder.wait()


def test_gc_empties_the_trash_a_killed_collection_left(session):
    run(pipeline(session, "Trash", [writer("Write", f"s3://{BUCKET}/trash", "x.csv")]))
    left = Path(session.store.root) / "trash" / "abcdefabcdef"
    (left / "deep").mkdir(parents=True)
    (left / "deep" / "big.bin").write_bytes(b"x" * 1000)
    collect(session, keep=1)
    assert not left.exists()


def test_two_concurrent_collections_both_succeed(session):
    p = pipeline(session, "Twice", [writer("Write", f"s3://{BUCKET}/twice", "x.csv")])
    for _ in range(4):
        run(p)
    root = str(session.store.root)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "sagepipe.cli", "gc", "--store", root, "--keep", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, (out, err)
    assert len(json.loads(session.store.list_executions("Twice"))) == 1


# A selective run of Between's step B from the execution given as argv[2], in the store argv[1].
SELECTIVE_START = """
import sys
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.pipeline_context import PipelineSession
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

session = PipelineSession(store=sys.argv[1])
config = SelectiveExecutionConfig(source_pipeline_execution_arn=sys.argv[2], selected_steps=["B"])
execution = Pipeline(name="Between", sagemaker_session=session).start(selective_execution_config=config)
execution.wait(delay=0.05, max_attempts=20 * 60 * 5)
"""


@pytest.mark.parametrize("starter", ["another process", "this process"])
def test_a_start_between_plan_and_collection_keeps_what_it_reuses(session, starter):
    """gc plans again under the lock unless no record was written since its plan: a run that
    starts from the execution the plan deletes, after the plan and before the collection
    (whoever starts it), keeps that execution and its outputs."""
    per_run = {"Get": "Execution.PipelineExecutionId"}
    steps = [
        writer("A", join(f"s3://{BUCKET}/between", per_run, "a"), "x.csv"),
        writer("B", join(f"s3://{BUCKET}/between", per_run, "b"), "y.csv"),
    ]
    p = pipeline(session, "Between", steps)
    reference = run(p)
    run(p)
    gc_plan = _gc.plan(session.store, keep=1)
    assert gc_plan.delete == [reference.arn]
    if starter == "another process":
        started = subprocess.run(
            [sys.executable, "-c", SELECTIVE_START, str(session.store.root), reference.arn],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert started.returncode == 0, started.stderr
    else:
        config = SelectiveExecutionConfig(source_pipeline_execution_arn=reference.arn, selected_steps=["B"])
        p.start(selective_execution_config=config).wait(delay=0.05, max_attempts=20 * 60 * 5)

    done = _gc.apply(session.store, gc_plan)
    assert reference.arn not in done.delete and done.keep[reference.arn].startswith("reused by kept execution")
    reference_id = reference.arn.rsplit("/", 1)[-1]
    assert (s3(session, f"between/{reference_id}/a") / "x.csv").exists()
    assert reference.arn in [e["PipelineExecutionArn"] for e in json.loads(session.store.list_executions("Between"))]


def test_a_collection_with_nothing_written_since_its_plan_deletes_what_it_planned(session):
    p = pipeline(
        session,
        "Quiet",
        [writer("Write", join(f"s3://{BUCKET}/quiet", {"Get": "Execution.PipelineExecutionId"}, "o"), "x.csv")],
    )
    old = run(p)
    run(p)
    gc_plan = _gc.plan(session.store, keep=1)
    assert gc_plan.state is not None and session.store.records_state() == gc_plan.state
    done = _gc.apply(session.store, gc_plan)
    assert done.delete == [old.arn] and done.artifacts == gc_plan.artifacts != []
    assert not (s3(session, f"quiet/{old.arn.rsplit('/', 1)[-1]}/o") / "x.csv").exists()


def test_two_collections_planned_before_either_deletes(session):
    """The second collection's plan names executions the first already deleted."""
    p = pipeline(session, "Stale", [writer("Write", f"s3://{BUCKET}/stale", "x.csv")])
    for _ in range(3):
        run(p)
    first, second = _gc.plan(session.store, keep=1), _gc.plan(session.store, keep=1)
    _gc.apply(session.store, first)
    done = _gc.apply(session.store, second)
    assert done.delete == [] and done.artifacts == []
    assert len(json.loads(session.store.list_executions("Stale"))) == 1


# --------------------------------------------------------------------------------------------
# Typed validation errors, as the service gives them


@pytest.mark.parametrize(
    "config",
    ["x", {"MaxParallelExecutionSteps": -5}, {"MaxParallelExecutionSteps": 0}, {"MaxParallelExecutionSteps": "2"}, {}],
)
def test_update_pipeline_rejects_a_bad_parallelism_configuration(session, config):
    pipeline(session, "Par", [writer("Write", f"s3://{BUCKET}/par", "x.csv")])
    sm = __import__("sagepipe").client(sagemaker_session=session)
    with pytest.raises(ClientError) as caught:
        sm.update_pipeline(PipelineName="Par", ParallelismConfiguration=config)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "MaxParallelExecutionSteps" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        sm.start_pipeline_execution(PipelineName="Par", ParallelismConfiguration=config)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert json.loads(session.store.load_pipeline("Par")).get("ParallelismConfiguration") is None
    assert json.loads(session.store.list_executions("Par")) == []


@pytest.mark.parametrize("parameters", ["x", ["x"], [None], {"Name": "A", "Value": "1"}])
def test_start_rejects_malformed_pipeline_parameters(session, parameters):
    pipeline(session, "Params", [writer("Write", f"s3://{BUCKET}/params", "x.csv")])
    sm = __import__("sagepipe").client(sagemaker_session=session)
    with pytest.raises(ClientError) as caught:
        sm.start_pipeline_execution(PipelineName="Params", PipelineParameters=parameters)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "PipelineParameters" in caught.value.response["Error"]["Message"]


def test_parameter_values_longer_than_the_service_allows_are_rejected(session):
    defn = definition(
        [writer("Write", f"s3://{BUCKET}/long", "x.csv")],
        parameters=[{"Name": "Note", "Type": "String", "DefaultValue": "n"}],
    )
    p = Pipeline.from_definition(json.dumps(defn), name="Long", sagemaker_session=session)
    p.upsert(role_arn="any")
    sm = __import__("sagepipe").client(sagemaker_session=session)
    with pytest.raises(ClientError) as caught:
        sm.start_pipeline_execution(PipelineName="Long", PipelineParameters=[{"Name": "Note", "Value": "v" * 1025}])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "1024" in caught.value.response["Error"]["Message"]
    ok = sm.start_pipeline_execution(PipelineName="Long", PipelineParameters=[{"Name": "Note", "Value": "v" * 1024}])
    __import__("sagepipe").workflow._execution._PipelineExecution(ok["PipelineExecutionArn"], session).wait(
        delay=0.05, max_attempts=2400
    )
