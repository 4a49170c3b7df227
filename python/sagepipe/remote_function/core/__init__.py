"""Core of remote functions (mirror of ``sagemaker.remote_function.core``)."""
