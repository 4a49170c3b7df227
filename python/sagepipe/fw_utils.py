"""Script-mode code packaging (mirror of the parts of ``sagemaker.fw_utils`` job classes use)."""

import logging
import os
import re
import shutil
import tempfile
from collections import namedtuple
from typing import Dict, List, Optional, Union

from sagepipe.s3 import s3_path_join
from sagepipe.utils import create_tar_file, name_from_image
from sagepipe.workflow import is_pipeline_variable
from sagepipe.workflow.entities import PipelineVariable

logger = logging.getLogger(__name__)

_TAR_SOURCE_FILENAME = "sourcedir.tar.gz"

UploadedCode = namedtuple("UploadedCode", ["s3_prefix", "script_name"])
"""sagepipe.fw_utils.UploadedCode: An object containing the S3 prefix and script name.

This is for the source code used for the entry point with an ``Estimator``.
"""


def validate_source_dir(script, directory) -> bool:
    """Validate that the source directory exists and contains the user script.

    Raises:
        ValueError: ``script`` is not a file in ``directory``.
    """
    if directory and not os.path.isfile(os.path.join(directory, script)):
        raise ValueError(f'No file named "{script}" was found in directory "{directory}".')
    return True


def validate_source_code_input_against_pipeline_variables(
    entry_point: Optional[Union[str, PipelineVariable]] = None,
    source_dir: Optional[Union[str, PipelineVariable]] = None,
    git_config: Optional[Dict[str, str]] = None,
    enable_network_isolation: Union[bool, PipelineVariable] = False,
):
    """Validate the source code input against pipeline variables (SDK rules).

    Raises:
        TypeError: A pipeline variable is used where the code must be known at definition time.
    """
    if is_pipeline_variable(enable_network_isolation) or enable_network_isolation is True:
        if is_pipeline_variable(entry_point) or is_pipeline_variable(source_dir):
            raise TypeError(
                "entry_point, source_dir should not be pipeline variables when enable_network_isolation "
                "is a pipeline variable or it is set to True."
            )
    if git_config:
        if is_pipeline_variable(entry_point) or is_pipeline_variable(source_dir):
            raise TypeError("entry_point, source_dir should not be pipeline variables when git_config is given.")
    if is_pipeline_variable(entry_point):
        if not source_dir:
            raise TypeError("The entry_point should not be a pipeline variable when source_dir is missing.")
        if not is_pipeline_variable(source_dir) and not source_dir.lower().startswith("s3://"):
            raise TypeError("The entry_point should not be a pipeline variable when source_dir is a local path.")


def _list_files_to_compress(script, directory) -> List[str]:
    if directory is None:
        return [script]
    return [os.path.join(directory, name) for name in os.listdir(directory)]


def tar_and_upload_dir(
    session,
    bucket,
    s3_key_prefix,
    script,
    directory=None,
    dependencies=None,
    kms_key=None,
) -> UploadedCode:
    """Package source files into ``sourcedir.tar.gz`` and upload it to ``s3://bucket/s3_key_prefix/``.

    The tarball holds the script (or the whole ``directory``) and ``dependencies`` at its root.

    Args:
        session (sagepipe.session.Session): The session whose store receives the upload.
        bucket (str): The destination bucket.
        s3_key_prefix (str): The key prefix of ``sourcedir.tar.gz``.
        script (str): The entry point (a path, or a name inside ``directory``).
        directory (str): A source directory, an ``s3://`` tarball or a pipeline variable.
        dependencies (list[str]): Extra files or directories put at the tarball's root.
        kms_key (str): Accepted for compatibility; unused.

    Returns:
        UploadedCode: The S3 URI of the tarball and the script name inside it.
    """
    if directory and (is_pipeline_variable(directory) or directory.lower().startswith("s3://")):
        return UploadedCode(s3_prefix=directory, script_name=script)
    script_name = script if directory else os.path.basename(script)
    key = f"{s3_key_prefix}/{_TAR_SOURCE_FILENAME}"
    tmp = tempfile.mkdtemp()
    try:
        source_files = _list_files_to_compress(script, directory) + list(dependencies or [])
        tar_file = create_tar_file(source_files, os.path.join(tmp, _TAR_SOURCE_FILENAME))
        with open(tar_file, "rb") as f:
            session.upload_string_as_file_body(body=f.read(), bucket=bucket, key=key)
    finally:
        shutil.rmtree(tmp)
    return UploadedCode(s3_prefix=f"s3://{bucket}/{key}", script_name=script_name)


def model_code_key_prefix(code_location_key_prefix, model_name, image) -> str:
    """The S3 key prefix of a model's code: ``<prefix>/<model name or timestamped image name>``."""
    import time

    name_from = f"/model_code/{int(time.time())}"
    if not is_pipeline_variable(image):
        name_from = name_from_image(image)
    return s3_path_join(code_location_key_prefix, model_name or name_from)


def version_tuple(version: str) -> tuple:
    """A framework version as a comparable tuple (``"1.13.1"`` -> ``(1, 13, 1)``; ``"1.2-1"`` -> ``(1, 2, 1)``).

    Non-numeric parts compare as 0, enough for the ``>=`` checks of framework versions.
    """
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.\-]", str(version)))


def validate_version_or_image_args(framework_version, py_version, image_uri) -> None:
    """Checks that ``framework_version`` and ``py_version``, or ``image_uri``, are given.

    Raises:
        ValueError: Neither both versions nor ``image_uri``.
    """
    if (framework_version is None or py_version is None) and image_uri is None:
        raise ValueError(
            "framework_version or py_version was None, yet image_uri was also None. "
            "Either specify both framework_version and py_version, or specify image_uri."
        )
