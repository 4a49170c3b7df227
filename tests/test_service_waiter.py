"""The SDK's ``PipelineExecution.wait()`` on a routed client: the SDK builds its own
``PipelineExecutionComplete`` waiter (botocore has none) with ``create_waiter_with_client`` and a
30 s delay; locally it returns when the execution ends, with botocore's outcome for the status.

Runs in a fresh interpreter, since routing patches botocore for the whole process.
"""

import subprocess
import sys
import textwrap


def test_the_sdks_waiter_returns_when_the_local_execution_ends(tmp_path):
    code = textwrap.dedent(
        f"""
        import os, time
        os.environ["SAGEPIPE_STORE"] = {str(tmp_path / "store")!r}
        import boto3, botocore.waiter
        from botocore.exceptions import WaiterError
        from sagepipe import _service
        from sagepipe.workflow.function_step import step
        from sagepipe.workflow.pipeline import Pipeline
        from sagepipe.workflow.pipeline_context import PipelineSession

        def sdk_waiter(client, delay=30, max_attempts=60):
            # The shape SDK v2 and v3 build in PipelineExecution.wait().
            status = lambda value, state: {{
                "expected": value, "matcher": "path", "state": state, "argument": "PipelineExecutionStatus"
            }}
            model = botocore.waiter.WaiterModel({{"version": 2, "waiters": {{"PipelineExecutionComplete": {{
                "delay": delay, "maxAttempts": max_attempts, "operation": "DescribePipelineExecution",
                "acceptors": [status("Succeeded", "success"), status("Failed", "failure")],
            }}}}}})
            return botocore.waiter.create_waiter_with_client("PipelineExecutionComplete", model, client)

        def nap(seconds):
            time.sleep(seconds)
            if seconds > 1:
                raise ValueError("too long")

        session = PipelineSession(store=os.environ["SAGEPIPE_STORE"], function_step_mode="in_process")
        Pipeline(name="naps", steps=[step(name="Nap")(nap)(0.5)], sagemaker_session=session).upsert()
        Pipeline(name="fails", steps=[step(name="Nap")(nap)(2)], sagemaker_session=session).upsert()
        _service.route(["sagemaker"])
        try:
            sm = boto3.client("sagemaker")
            arn = sm.start_pipeline_execution(PipelineName="naps")["PipelineExecutionArn"]
            t0 = time.monotonic()
            sdk_waiter(sm).wait(PipelineExecutionArn=arn)
            assert time.monotonic() - t0 < 10, "polled every 30 s"
            assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] == "Succeeded"

            arn = sm.start_pipeline_execution(PipelineName="fails")["PipelineExecutionArn"]
            t0 = time.monotonic()
            try:
                sdk_waiter(sm).wait(PipelineExecutionArn=arn)
                raise AssertionError("a failed execution passed the waiter")
            except WaiterError as error:
                assert 'matched expected path: "Failed"' in str(error), error
                assert error.last_response["PipelineExecutionStatus"] == "Failed"
            assert time.monotonic() - t0 < 10, "polled every 30 s"
        finally:
            _service.unroute()
        assert botocore.waiter.create_waiter_with_client.__module__ == "botocore.waiter"
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "ok"
