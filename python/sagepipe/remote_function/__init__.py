"""Remote functions (mirror of ``sagemaker.remote_function``).

sagepipe runs ``@step`` functions (``sagepipe.workflow.function_step``) locally; this package
holds what they share with the SDK's remote functions: the job settings
(:class:`sagepipe.remote_function.job._JobSettings`) and the serializer
(:mod:`sagepipe.remote_function.core.serialization`). The SDK's ``@remote`` decorator and
``RemoteExecutor`` are not provided.
"""
