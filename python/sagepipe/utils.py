"""Naming and packaging helpers (mirror of the parts of ``sagemaker.utils`` job classes use)."""

import os
import re
import tarfile
import tempfile
import time

from sagepipe.workflow import is_pipeline_parameter_string, is_pipeline_variable
from sagepipe.workflow.utilities import base_from_name, sagemaker_timestamp  # noqa: F401  (SDK path)


def sagemaker_short_timestamp() -> str:
    """Return a timestamp that is relatively short in length (``%y%m%d-%H%M``)."""
    return time.strftime("%y%m%d-%H%M")


def name_from_base(base: str, max_length: int = 63, short: bool = False) -> str:
    """Append a timestamp to ``base``, trimming ``base`` so the result fits ``max_length``."""
    timestamp = sagemaker_short_timestamp() if short else sagemaker_timestamp()
    trimmed_base = base[: max_length - len(timestamp) - 1]
    return f"{trimmed_base}-{timestamp}"


def base_name_from_image(image, default_base_name=None) -> str:
    """The repository name of an image URI (``.../my-repo:tag`` gives ``my-repo``).

    A pipeline variable image uses the default value of a ``ParameterString``, else
    ``default_base_name`` (or ``base_name``).
    """
    if is_pipeline_variable(image):
        if is_pipeline_parameter_string(image) and image.default_value:
            image_str = image.default_value
        else:
            return default_base_name if default_base_name else "base_name"
    else:
        image_str = image
    m = re.match("^(.+/)?([^:/]+)(:[^:]+)?$", image_str)
    return m.group(2) if m else image_str


def name_from_image(image, max_length: int = 63) -> str:
    """A timestamped name from an image URI's repository name."""
    return name_from_base(base_name_from_image(image), max_length=max_length)


def to_string(obj: object):
    """``obj.to_string()`` for pipeline variables, ``str(obj)`` otherwise."""
    return obj.to_string() if is_pipeline_variable(obj) else str(obj)


def create_tar_file(source_files, target=None) -> str:
    """Create a gzipped tar of ``source_files`` (each added under its base name) and return its path."""
    if target:
        filename = target
    else:
        fd, filename = tempfile.mkstemp()
        os.close(fd)
    with tarfile.open(filename, mode="w:gz", dereference=True) as t:
        for sf in source_files:
            t.add(sf, arcname=os.path.basename(sf))
    return filename
