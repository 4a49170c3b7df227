"""Start the Abalone pipeline as a SageMaker SDK script does: upsert, start, wait, report.

It imports ``sagemaker`` and runs unchanged under sagepipe, from the repository root:

    sagepipe run examples/abalone/run.py        # or: python -m sagepipe.compat examples/abalone/run.py
"""

import sagemaker
from pipeline import build  # this directory's pipeline module (a script's directory is on sys.path)
from sagemaker.workflow.pipeline_context import PipelineSession

session = PipelineSession()
pipeline = build(session)
pipeline.upsert(role_arn=sagemaker.get_execution_role())
execution = pipeline.start()
execution.wait()
print(execution.describe()["PipelineExecutionStatus"])
