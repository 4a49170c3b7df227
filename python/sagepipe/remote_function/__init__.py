"""Remote functions (mirror of ``sagemaker.remote_function``).

:func:`remote` runs a decorated function as a local job process (see
:mod:`sagepipe.remote_function.client`). ``@step`` functions (``sagepipe.workflow.function_step``)
share its job settings (:class:`sagepipe.remote_function.job._JobSettings`) and serializer
(:mod:`sagepipe.remote_function.core.serialization`). The SDK's ``RemoteExecutor`` and futures
are not provided.
"""

from sagepipe.remote_function.client import remote

__all__ = ["remote"]
