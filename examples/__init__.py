"""Example projects (importable from the repository root: ``examples.abalone.pipeline``)."""
