"""Repack a model archive with inference code (run as the ``<name>-RepackModel`` training job).

Job contract (as the SageMaker SDK's repack script): the model archive is the ``training`` channel
(``/opt/ml/input/data/training/<archive name>``), the code is in ``/opt/ml/code``; the archive's
content plus the code under ``code/`` (dependencies under ``code/lib``) is written to
``/opt/ml/model``, which the training job packs into the new ``model.tar.gz``.
"""

import argparse
import os
import shutil
import tarfile
import tempfile

DATA_DIRECTORY = "/opt/ml/input/data/training"
CODE_DIRECTORY = "/opt/ml/code"
MODEL_DIRECTORY = "/opt/ml/model"


def _extract(archive: str, target: str) -> None:
    with tarfile.open(name=archive, mode="r:gz") as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(path=target, filter="data")
        else:
            base = os.path.realpath(target)
            for member in tar.getmembers():
                path = os.path.realpath(os.path.join(base, member.name))
                if not path.startswith(base) or member.issym() or member.islnk():
                    raise ValueError(f"refusing to extract {member.name!r} outside the model directory")
            tar.extractall(path=target)


def repack(
    inference_script,
    model_archive,
    dependencies=None,
    source_dir=None,
    data_directory=DATA_DIRECTORY,
    code_directory=CODE_DIRECTORY,
    model_directory=MODEL_DIRECTORY,
):
    """Write the model archive's files plus the inference code to ``model_directory``.

    Args:
        inference_script (str): The inference script's name (copied alone without source_dir).
        model_archive (str): The model archive URI or name (its base name is read from the channel).
        dependencies (str): Space-separated dependency names inside ``code_directory``.
        source_dir (str): Set (not ``null``) when the whole code directory is the inference code.
        data_directory, code_directory, model_directory (str): The job's channel, code and model
            directories (the SageMaker container paths by default).
    """
    model_path = os.path.join(data_directory, model_archive.split("/")[-1])
    with tempfile.TemporaryDirectory() as tmp:
        src_dir = os.path.join(tmp, "src")
        code_dir = os.path.join(src_dir, "code")
        os.makedirs(code_dir)
        _extract(model_path, src_dir)
        if source_dir and source_dir != "null":
            shutil.rmtree(code_dir, ignore_errors=True)
            shutil.copytree(code_directory, code_dir)
        else:
            shutil.copy2(os.path.join(code_directory, inference_script), os.path.join(code_dir, inference_script))
        if dependencies and dependencies != "null":
            lib_dir = os.path.join(code_dir, "lib")
            os.makedirs(lib_dir, exist_ok=True)
            for dependency in dependencies.split(" "):
                path = os.path.join(code_directory, os.path.basename(dependency))
                if os.path.isdir(path):
                    shutil.copytree(path, os.path.join(lib_dir, os.path.basename(dependency)), dirs_exist_ok=True)
                else:
                    shutil.copy2(path, lib_dir)
        shutil.copytree(src_dir, model_directory, dirs_exist_ok=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--inference_script", type=str, default="inference.py")
    parser.add_argument("--dependencies", type=str, default=None)
    parser.add_argument("--source_dir", type=str, default=None)
    parser.add_argument("--model_archive", type=str, default="model.tar.gz")
    args, _ = parser.parse_known_args()
    repack(args.inference_script, args.model_archive, args.dependencies, args.source_dir)
