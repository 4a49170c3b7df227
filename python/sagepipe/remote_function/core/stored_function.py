"""What a stored remote function consists of (mirror of
``sagemaker.remote_function.core.stored_function``)."""

from sagepipe.workflow._function_payload import JSON_RESULTS_FILE, JSON_SERIALIZED_RESULT_KEY

__all__ = ["JSON_RESULTS_FILE", "JSON_SERIALIZED_RESULT_KEY", "RESULTS_FOLDER", "_SerializedData"]

RESULTS_FOLDER = "results"


class _SerializedData:
    """A function and its arguments, pickled (``func``, ``args``: bytes)."""

    def __init__(self, func: bytes, args: bytes):
        self.func = func
        self.args = args
