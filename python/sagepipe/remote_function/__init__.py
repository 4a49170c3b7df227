"""Remote functions (mirror of ``sagemaker.remote_function``).

:func:`remote` runs a decorated function as a local job process (see
:mod:`sagepipe.remote_function.client`). ``@step`` functions (``sagepipe.workflow.function_step``)
share its job settings (:class:`sagepipe.remote_function.job._JobSettings`) and serializer
(:mod:`sagepipe.remote_function.core.serialization`). The SDK's ``RemoteExecutor`` and futures
are not provided.
"""

from typing import Any

__all__ = ["remote"]


def __getattr__(name: str) -> Any:
    # `remote` on first use: the serializer under `core` (which every @step definition and
    # worker imports) must not pull in the job client and subprocess with it.
    if name == "remote":
        from sagepipe.remote_function.client import remote

        return remote
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
