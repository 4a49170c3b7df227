"""Local stand-ins for SageMaker built-in algorithm containers, run as jobs by the engine."""
