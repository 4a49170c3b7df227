"""Hostile-input catalogue, chapter "Trust, round 2" (issue 13): jobs and their outputs.

Real pipelines on a temp store, with real job scripts that do what a careless or hostile job
can do: step names sharing their first 40+ characters, outputs replaced by symlinks to host
directories, symlinks and FIFOs inside outputs and /opt/ml/model, output files named like stored
directories, symlinks added to a reused output, tar bombs. Each test failed on the code before
the fix (named in its docstring) and guards that:

- job names are unique per step and execution whatever the step names;
- outputs are collected as regular files and directories only, nothing in the artifact area is
  ever resolved through a symlink, and nothing blocks on a FIFO;
- merging an output never deletes what the step did not write;
- archives are unpacked within a size limit, and a failed packing leaves no temporary file.
"""

import io
import json
import os
import re
import tarfile
import textwrap
from pathlib import Path

import pytest
from jobs_lib import (
    BUCKET,
    SKLEARN_IMAGE,
    definition,
    get,
    processing_input,
    processing_output,
    processing_step,
    training_step,
)
from sagepipe.exceptions import ReferenceExecutionError
from sagepipe.workflow.pipeline import Pipeline
from sagepipe.workflow.selective_execution_config import SelectiveExecutionConfig

JOB_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
# Generous: the machine is shared; a step that hangs (the old FIFO behaviour) never ends at all.
WAIT = {"delay": 1, "max_attempts": 240}


def _pipeline(session, name, steps) -> Pipeline:
    pipeline = Pipeline.from_definition(json.dumps(definition(steps)), name=name, sagemaker_session=session)
    pipeline.upsert(role_arn="any")
    return pipeline


def _run(session, name, steps):
    execution = _pipeline(session, name, steps).start()
    execution.wait(**WAIT)
    return execution, {s["StepName"]: s for s in execution.list_steps()}


def _script(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def _stored(session, uri: str) -> Path:
    return Path(session.store.uri_to_path(uri))


def _sourcedir(session, uri: str, files: dict) -> str:
    """A sourcedir.tar.gz in the store: {name: text} or {name: bytes}."""
    dest = _stored(session, uri)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz") as tar:
        for name, content in files.items():
            data = content if isinstance(content, bytes) else textwrap.dedent(content).encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return uri


def _script_training(name: str, source: str, output_path: str, **hyperparameters) -> dict:
    hps = {"sagemaker_program": '"train.py"', "sagemaker_submit_directory": json.dumps(source)}
    hps.update({k: json.dumps(v) for k, v in hyperparameters.items()})
    return training_step(name, SKLEARN_IMAGE, hps, [], output_path)


def _host_dir(tmp_path: Path) -> Path:
    """A user's directory outside the store, with a file that must survive every test."""
    host = tmp_path / "users-files"
    host.mkdir()
    (host / "thesis.txt").write_text("four years of work")
    return host


def _host_intact(host: Path) -> bool:
    return sorted(p.name for p in host.iterdir()) == ["thesis.txt"] and (
        (host / "thesis.txt").read_text() == "four years of work"
    )


# --------------------------------------------------------------------------------------------
# 1. Job names


TRAIN_WHICH = """
import argparse, json, os
parser = argparse.ArgumentParser()
parser.add_argument("--which")
args = parser.parse_args()
with open(os.path.join(os.environ["SM_MODEL_DIR"], "which.json"), "w") as f:
    json.dump({"which": args.which, "job": os.environ["TRAINING_JOB_NAME"]}, f)
"""


def test_steps_sharing_their_first_40_characters_get_their_own_jobs(session):
    """Before: both job names were cut to the same 63 characters (the random part cut away),
    so the two steps shared one job directory, one /opt/ml and one model.tar.gz."""
    source = _sourcedir(session, f"s3://{BUCKET}/names/sourcedir.tar.gz", {"train.py": TRAIN_WHICH})
    shared = "TrainTheModelOnTheFullAbaloneDatasetWithXGBoost"  # 47 characters in common
    names = [f"{shared}_A", f"{shared}_B"]
    steps = [_script_training(n, source, f"s3://{BUCKET}/names/models", which=n) for n in names]
    execution, records = _run(session, "LongStepNames", steps)
    assert execution.describe()["PipelineExecutionStatus"] == "Succeeded", {
        n: r.get("FailureReason") for n, r in records.items()
    }
    props = {r["StepName"]: r["Properties"] for r in json.loads(session.store.load_steps(execution.arn))}
    jobs = {n: props[n]["TrainingJobName"] for n in names}
    assert jobs[names[0]] != jobs[names[1]], jobs
    for name, job in jobs.items():
        assert JOB_NAME.match(job), job
        assert records[name]["Metadata"]["TrainingJob"]["Arn"].endswith("/" + job.lower())
        model_uri = props[name]["ModelArtifacts"]["S3ModelArtifacts"]
        assert model_uri == f"s3://{BUCKET}/names/models/{job}/output/model.tar.gz"
        with tarfile.open(_stored(session, model_uri)) as tar:
            assert json.load(tar.extractfile("which.json")) == {"which": name, "job": job}


# --------------------------------------------------------------------------------------------
# 2. Symlinks out of a job's output


REPLACE_WITH_LINK = """
import os, shutil, sys
output, target = sys.argv[1], sys.argv[2]
shutil.rmtree(output)
os.symlink(target, output)
"""

LINK_INSIDE = """
import os, sys
output, target = sys.argv[1], sys.argv[2]
open(os.path.join(output, "result.csv"), "w").write("1,2\\n")
os.makedirs(os.path.join(output, "sub"))
os.symlink(target, os.path.join(output, "sub", "escape"))
"""


def test_outputs_replaced_by_or_holding_symlinks_fail_and_move_nothing(session, tmp_path):
    """Before: an output directory replaced by a symlink to a host directory was stored as that
    symlink (later writes and gc went through it onto the host), and a symlink inside an output
    was stored too."""
    host = _host_dir(tmp_path)
    steps = [
        processing_step(
            "LinkedOutput",
            ["python3", _script(tmp_path, "replace.py", REPLACE_WITH_LINK)],
            [],
            [processing_output("out", f"s3://{BUCKET}/links/whole", "/opt/ml/processing/out")],
            arguments=["/opt/ml/processing/out", str(host)],
        ),
        processing_step(
            "LinkInside",
            ["python3", _script(tmp_path, "inside.py", LINK_INSIDE)],
            [],
            [processing_output("out", f"s3://{BUCKET}/links/inside", "/opt/ml/processing/out")],
            arguments=["/opt/ml/processing/out", str(host / "thesis.txt")],
        ),
    ]
    execution, records = _run(session, "SymlinkOutputs", steps)
    assert execution.describe()["PipelineExecutionStatus"] == "Failed"
    whole, inside = records["LinkedOutput"], records["LinkInside"]
    assert whole["StepStatus"] == "Failed" and inside["StepStatus"] == "Failed", (whole, inside)
    assert "/opt/ml/processing/out is a symlink" in whole["FailureReason"], whole["FailureReason"]
    assert "/opt/ml/processing/out/sub/escape is a symlink" in inside["FailureReason"], inside["FailureReason"]
    assert "only regular files and directories" in inside["FailureReason"]
    assert _host_intact(host)
    assert not _stored(session, f"s3://{BUCKET}/links/whole").exists()
    assert not os.path.lexists(_stored(session, f"s3://{BUCKET}/links/whole"))
    assert not _stored(session, f"s3://{BUCKET}/links/inside").exists()


COPY_INPUT = """
import shutil, sys
shutil.copytree(sys.argv[1], sys.argv[2], dirs_exist_ok=True)
"""


def test_store_operations_never_go_through_a_symlink_in_the_artifact_area(session, tmp_path):
    """Before: a symlink planted in the artifact area was followed: staging copied the host
    directory into the job, and deleting an artifact under it (what gc does) deleted the
    user's file on the host."""
    host = _host_dir(tmp_path)
    planted = _stored(session, f"s3://{BUCKET}/planted")
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.symlink_to(host)
    with pytest.raises(Exception, match="s3://my-bucket/planted is a symlink"):
        session.store.delete_artifact(f"s3://{BUCKET}/planted/thesis.txt")
    assert _host_intact(host)
    step = processing_step(
        "ReadsPlanted",
        ["python3", _script(tmp_path, "copy.py", COPY_INPUT)],
        [processing_input("in", f"s3://{BUCKET}/planted", "/opt/ml/processing/in")],
        [processing_output("out", f"s3://{BUCKET}/copied", "/opt/ml/processing/out")],
        arguments=["/opt/ml/processing/in", "/opt/ml/processing/out"],
    )
    execution, records = _run(session, "ReadsPlanted", [step])
    reason = records["ReadsPlanted"].get("FailureReason", "")
    assert records["ReadsPlanted"]["StepStatus"] == "Failed"
    assert "s3://my-bucket/planted is a symlink" in reason, reason
    assert not _stored(session, f"s3://{BUCKET}/copied").exists()
    # The link itself may go (as a link): what it points to stays.
    session.store.delete_artifact(f"s3://{BUCKET}/planted")
    assert not os.path.lexists(planted) and _host_intact(host)


MODEL_WITH_LINK = """
import os, sys
model = os.environ["SM_MODEL_DIR"]
open(os.path.join(model, "a-weights.bin"), "w").write("weights")
os.symlink(sys.argv[sys.argv.index("--target") + 1], os.path.join(model, "z-link"))
"""


def test_symlinks_in_the_model_directory_fail_packing_and_leave_nothing(session, tmp_path):
    """Before: an absolute symlink in /opt/ml/model packed the host file it pointed to into
    model.tar.gz, and a dangling one failed the packing but left model.tar.gz.partial behind."""
    host = _host_dir(tmp_path)
    source = _sourcedir(session, f"s3://{BUCKET}/pack/sourcedir.tar.gz", {"train.py": MODEL_WITH_LINK})
    steps = [
        _script_training("HostFile", source, f"s3://{BUCKET}/pack/host", target=str(host / "thesis.txt")),
        _script_training("Dangling", source, f"s3://{BUCKET}/pack/dangling", target=str(tmp_path / "nothing")),
    ]
    execution, records = _run(session, "ModelLinks", steps)
    for name in ("HostFile", "Dangling"):
        reason = records[name].get("FailureReason", "")
        assert records[name]["StepStatus"] == "Failed", reason
        assert "/opt/ml/model/z-link is a symlink" in reason, reason
    for prefix in ("host", "dangling"):
        base = _stored(session, f"s3://{BUCKET}/pack/{prefix}")
        left = [os.path.join(d, f) for d, _, files in os.walk(base) for f in files]
        assert left == [], left
    assert _host_intact(host)


# --------------------------------------------------------------------------------------------
# 5. Merging an output never deletes other data


WRITE_TREE = """
import json, os, sys
output, files = sys.argv[1], json.loads(sys.argv[2])
for rel, text in files.items():
    path = os.path.join(output, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(text)
"""


def _writer(tmp_path, name, uri, files):
    return processing_step(
        name,
        ["python3", _script(tmp_path, "write_tree.py", WRITE_TREE)],
        [],
        [processing_output("out", uri, "/opt/ml/processing/out")],
        arguments=["/opt/ml/processing/out", json.dumps(files)],
    )


def test_an_output_clashing_with_stored_data_fails_and_deletes_nothing(session, tmp_path):
    """Before: an output file named like a stored directory ran remove_dir_all on it (another
    pipeline's artifacts, or a host directory for a file:// output), and an output directory
    named like a stored file deleted the file."""
    shared = f"s3://{BUCKET}/shared"
    kept, _ = _run(session, "Keeper", [_writer(tmp_path, "Keep", shared, {"x/keep.txt": "kept", "y": "a file"})])
    assert kept.describe()["PipelineExecutionStatus"] == "Succeeded"
    host = _host_dir(tmp_path)
    steps = [
        _writer(tmp_path, "FileOverDir", shared, {"x": "a file named like the directory", "new.txt": "n"}),
        _writer(tmp_path, "DirOverFile", shared, {"y/inside.txt": "a directory named like the file"}),
        _writer(tmp_path, "OverHostDir", f"file://{tmp_path}", {"users-files": "replaces the user's directory"}),
    ]
    execution, records = _run(session, "Clasher", steps)
    assert execution.describe()["PipelineExecutionStatus"] == "Failed"
    reasons = {n: r.get("FailureReason", "") for n, r in records.items()}
    assert all(r["StepStatus"] == "Failed" for r in records.values()), reasons
    assert (
        "the file /opt/ml/processing/out/x would replace the directory s3://my-bucket/shared/x"
        in reasons["FileOverDir"]
    ), reasons
    assert (
        "the directory /opt/ml/processing/out/y would replace the file s3://my-bucket/shared/y"
        in reasons["DirOverFile"]
    ), reasons
    assert f"would replace the directory file://{tmp_path}/users-files" in reasons["OverHostDir"], reasons
    for reason in reasons.values():
        assert "nothing was stored" in reason
    stored = _stored(session, shared)
    assert (stored / "x" / "keep.txt").read_text() == "kept"
    assert (stored / "y").read_text() == "a file"
    assert not (stored / "new.txt").exists(), "a failed merge stores nothing of the output"
    assert _host_intact(host)


# --------------------------------------------------------------------------------------------
# 2 (reuse). A symlink added to a reused output


def test_a_symlink_added_to_a_reused_output_fails_the_reuse_check(session, tmp_path):
    """Before: the reuse check did not see a symlink added to a reused directory (its walk
    skipped it), and the selected step's staging followed it to the host file."""
    host = _host_dir(tmp_path)
    gen_uri, use_uri = f"s3://{BUCKET}/reuse/gen", f"s3://{BUCKET}/reuse/use"
    gen = _writer(tmp_path, "Gen", gen_uri, {"data.csv": "1,2\n"})
    use = processing_step(
        "Use",
        ["python3", _script(tmp_path, "copy.py", COPY_INPUT)],
        [
            processing_input(
                "in", get("Steps.Gen.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"), "/opt/ml/processing/in"
            )
        ],
        [processing_output("out", use_uri, "/opt/ml/processing/out")],
        arguments=["/opt/ml/processing/in", "/opt/ml/processing/out"],
    )
    pipeline = _pipeline(session, "Reuse", [gen, use])
    reference = pipeline.start()
    reference.wait(**WAIT)
    assert reference.describe()["PipelineExecutionStatus"] == "Succeeded"
    (_stored(session, gen_uri) / "secret.txt").symlink_to(host / "thesis.txt")
    config = SelectiveExecutionConfig(["Use"], source_pipeline_execution_arn=reference.arn)
    with pytest.raises(ReferenceExecutionError) as info:
        pipeline.start(selective_execution_config=config)
    problems = info.value.errors()
    assert [p["type"] for p in problems] == ["artifact_changed"], problems
    assert f"reused artifact {gen_uri} holds a symlink at {gen_uri}/secret.txt" in problems[0]["msg"], problems
    assert not (_stored(session, use_uri) / "secret.txt").exists()
    assert _host_intact(host)


# --------------------------------------------------------------------------------------------
# 8. FIFOs never hang a step


FIFO_OUTPUT = """
import os, sys
os.mkfifo(os.path.join(sys.argv[1], "evaluation.json"))
"""

FIFO_FAILURE = """
import os
os.mkfifo(os.path.join(os.path.dirname(os.environ["SM_OUTPUT_DATA_DIR"]), "failure"))
raise SystemExit("the script failed after making output/failure a FIFO")
"""


def test_a_fifo_in_an_output_fails_the_step_instead_of_hanging(session, tmp_path):
    """Before: a FIFO as a PropertyFile's evaluation.json was stored, and the condition reading
    it blocked in open() forever (stop could not end it)."""
    evaluate = processing_step(
        "Evaluate",
        ["python3", _script(tmp_path, "fifo.py", FIFO_OUTPUT)],
        [],
        [processing_output("evaluation", f"s3://{BUCKET}/fifo/eval", "/opt/ml/processing/evaluation")],
        arguments=["/opt/ml/processing/evaluation"],
        property_files=[{"PropertyFileName": "Report", "OutputName": "evaluation", "FilePath": "evaluation.json"}],
    )
    check = {
        "Name": "Check",
        "Type": "Condition",
        "Arguments": {
            "Conditions": [
                {
                    "Type": "GreaterThan",
                    "LeftValue": {
                        "Std:JsonGet": {"PropertyFile": get("Steps.Evaluate.PropertyFiles.Report"), "Path": "mse"}
                    },
                    "RightValue": 1,
                }
            ],
            "IfSteps": [],
            "ElseSteps": [],
        },
    }
    execution, records = _run(session, "FifoOutput", [evaluate, check])
    assert execution.describe()["PipelineExecutionStatus"] == "Failed"
    reason = records["Evaluate"].get("FailureReason", "")
    assert records["Evaluate"]["StepStatus"] == "Failed", reason
    assert "/opt/ml/processing/evaluation/evaluation.json is a FIFO" in reason, reason
    assert "Check" not in records
    assert not _stored(session, f"s3://{BUCKET}/fifo/eval").exists()


def test_a_fifo_at_output_failure_does_not_hang_the_failing_step(session):
    """Before: reading a failed training script's /opt/ml/output/failure blocked forever when
    the script had made it a FIFO."""
    source = _sourcedir(session, f"s3://{BUCKET}/fifo/sourcedir.tar.gz", {"train.py": FIFO_FAILURE})
    _, records = _run(session, "FifoFailure", [_script_training("Train", source, f"s3://{BUCKET}/fifo/model")])
    reason = records["Train"].get("FailureReason", "")
    assert records["Train"]["StepStatus"] == "Failed" and "AlgorithmError" in reason, reason


# --------------------------------------------------------------------------------------------
# 7 (archives). Tar bombs


def test_a_tar_bomb_source_dir_is_refused_before_anything_is_unpacked(session, monkeypatch):
    """Before: sourcedir.tar.gz was unpacked whatever it expanded to (a small archive could
    fill the disk). The limit is lowered here so the test stays small: 64 MiB of zeros pack
    into about 64 KiB."""
    bomb = b"\0" * (64 << 20)
    source = _sourcedir(
        session,
        f"s3://{BUCKET}/bomb/sourcedir.tar.gz",
        {"train.py": "print('never runs')", "padding.bin": bomb},
    )
    assert _stored(session, source).stat().st_size < (1 << 20)
    monkeypatch.setenv("SAGEPIPE_MAX_UNPACK_BYTES", str(16 << 20))
    execution, records = _run(session, "Bomb", [_script_training("Train", source, f"s3://{BUCKET}/bomb/model")])
    reason = records["Train"].get("FailureReason", "")
    assert records["Train"]["StepStatus"] == "Failed", reason
    assert "sourcedir.tar.gz unpacks to more than 16777216 bytes (at member 'padding.bin')" in reason, reason
    assert "SAGEPIPE_MAX_UNPACK_BYTES" in reason and source in reason
    assert "never runs" not in execution.logs("Train")
