"""Naming and packaging helpers (mirror of the parts of ``sagemaker.utils`` pipeline code uses)."""

import os
import re
import time
from typing import Any, Dict, List, Optional, Union

from sagepipe.config import get_config_value  # noqa: F401  (SDK path: sagemaker.utils.get_config_value)
from sagepipe.workflow import is_pipeline_parameter_string, is_pipeline_variable
from sagepipe.workflow.utilities import base_from_name, sagemaker_timestamp  # noqa: F401  (SDK path)


def sagemaker_short_timestamp() -> str:
    """Return a timestamp that is relatively short in length (``%y%m%d-%H%M``)."""
    return time.strftime("%y%m%d-%H%M")


def _job_name_prefix(name: str) -> str:
    """``name`` as a job name prefix: leading symbols dropped, other symbols as hyphens."""
    return re.sub(r"[^a-zA-Z0-9-]", "-", re.sub(r"^[^a-zA-Z0-9]+", "", name))


def name_from_base(base: str, max_length: int = 63, short: bool = False) -> str:
    """Append a timestamp to ``base``, trimming ``base`` so the result fits ``max_length``."""
    timestamp = sagemaker_short_timestamp() if short else sagemaker_timestamp()
    trimmed_base = base[: max_length - len(timestamp) - 1]
    return f"{trimmed_base}-{timestamp}"


def unique_name_from_base(base: str, max_length: int = 63) -> str:
    """``<base>-<unix seconds>-<4 random hex digits>``, ``base`` trimmed so it fits ``max_length``.

    Unique across calls in the same second too (the random suffix), as pipeline and job names
    built with it must be.
    """
    timestamp = str(int(time.time()))
    suffix = os.urandom(2).hex()  # secrets.token_hex(2), without importing secrets
    trimmed_base = base[: max_length - len(timestamp) - len(suffix) - 2]
    return f"{trimmed_base}-{timestamp}-{suffix}"


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
    import tarfile  # archive modules only when an archive is made (they slow every import)
    import tempfile

    if target:
        filename = target
    else:
        fd, filename = tempfile.mkstemp()
        os.close(fd)
    with tarfile.open(filename, mode="w:gz", dereference=True) as t:
        for sf in source_files:
            t.add(sf, arcname=os.path.basename(sf))
    return filename


def build_dict(key: str, value: Any) -> Dict[str, Any]:
    """``{key: value}``, or ``{}`` when ``value`` is empty (for optional request members)."""
    if value:
        return {key: value}
    return {}


def format_tags(tags: Union[Dict[str, str], List[Dict[str, str]], None]) -> Optional[List[Dict[str, str]]]:
    """Tags as the service's list of ``{"Key", "Value"}`` (a plain ``{key: value}`` dict is converted)."""
    if isinstance(tags, dict):
        return [{"Key": str(k), "Value": str(v)} for k, v in tags.items()]
    return tags
