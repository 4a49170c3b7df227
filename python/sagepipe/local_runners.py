"""Local runners: how sagepipe runs, on this machine, what would need AWS or a container image.

One registry, two kinds of entries:

* **Images** (:func:`register_image`): a Processing or Training step that runs a container image
  *without* a script (no ``code=``/``entry_point``, no ``ContainerEntrypoint``) needs a command
  that does what the image would do. The command runs as a job under the same contract as every
  job: inputs staged under ``/opt/ml``, the ``SM_*`` environment of the training toolkit,
  ``/opt/ml/model`` packed into ``model.tar.gz``, outputs collected into the store. A first word
  ``python``/``python3`` means the interpreter sagepipe runs under. The SageMaker XGBoost
  algorithm image is built in (``sagepipe._algorithms.xgboost_train``, needs
  ``pip install sagepipe[xgboost]``); registered patterns are tried first, so a registration can
  also replace it.
* **Step types** (:func:`register_step_type`): a step type with no local meaning (Lambda,
  Callback, EMR, ...) runs through a Python handler ``handler(task) -> answer``. ``task`` holds
  ``step_name``, ``step_type``, the resolved ``arguments``, ``job_name``, ``execution_id``,
  ``store_root`` and ``log_path``; the answer is ``{"ok": True, "properties": {...},
  "metadata": {...}, "artifacts": [uri, ...]}`` or ``{"ok": False, "reason": "..."}``.

Registrations apply to executions started afterwards in this process. Without one, ``start()``
fails before anything runs, naming the step and the image or type.

Example::

    from sagepipe import local_runners

    local_runners.register_image(
        r"/my-algorithm:", command=["python3", "-m", "my_package.train_like_my_image"]
    )
"""

import re
from typing import Any, Callable, Dict, List, Sequence

from sagepipe import _runtime

# [{"pattern": regex, "command": [...]}, ...] in registration order.
IMAGE_RUNNERS: List[Dict[str, Any]] = []


def register_image(pattern: str, command: Sequence[str]) -> None:
    """Run images whose URI matches ``pattern`` (a regex, searched) with ``command``.

    Args:
        pattern: Regular expression searched in the image URI, e.g. ``r"/my-algorithm:"``.
            Use the common subset of Python and Rust regex syntax (no look-around).
        command: The command line run in the job, e.g. ``["python3", "-m", "pkg.train"]``.
            The step's ``ContainerArguments`` are appended for processing jobs.

    Raises:
        ValueError: if the pattern is not a valid regex or the command is empty.
    """
    try:
        re.compile(pattern)
    except re.error as e:
        raise ValueError(f"image pattern {pattern!r} is not a valid regex: {e}") from None
    command = [str(c) for c in command]
    if not command:
        raise ValueError(f"the local runner for images matching {pattern!r} needs a command")
    unregister_image(pattern)
    IMAGE_RUNNERS.append({"pattern": pattern, "command": command})


def unregister_image(pattern: str) -> None:
    """Remove the runner registered for ``pattern`` (no error if there is none)."""
    IMAGE_RUNNERS[:] = [r for r in IMAGE_RUNNERS if r["pattern"] != pattern]


def register_step_type(step_type: str, handler: Callable[[Dict[str, Any]], Dict[str, Any]]) -> None:
    """Run steps of ``step_type`` (e.g. ``"Lambda"``) with ``handler(task) -> answer``."""
    _runtime.STEP_HANDLERS[step_type] = handler


def unregister_step_type(step_type: str) -> None:
    """Remove the handler of ``step_type`` (no error if there is none)."""
    _runtime.STEP_HANDLERS.pop(step_type, None)
