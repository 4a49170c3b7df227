"""Errors of remote functions (mirror of ``sagemaker.remote_function.errors``)."""


class RemoteFunctionError(Exception):
    """The base error of remote functions."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(self.message)


class SerializationError(RemoteFunctionError):
    """An object could not be pickled."""


class DeserializationError(RemoteFunctionError):
    """Pickled bytes could not be loaded."""
