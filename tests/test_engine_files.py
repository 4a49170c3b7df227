"""What the engine writes for each step, now that it writes less: artifact records taken while
the results were written still match the files, a silent step leaves no log file, a step that
runs a while still shows as Executing, and a stop asked through the store (as another process
asks) is noticed while a stream of fast steps keeps the scheduler busy."""

import hashlib
import json
import os
import time

from sagepipe._s3_objects import open_object
from sagepipe.workflow.function_step import step
from sagepipe.workflow.pipeline import Pipeline


def chain(session, name, n, work):
    out = step(name="s0")(work)(0)
    for i in range(1, n):
        out = step(name=f"s{i}")(work)(out)
    return Pipeline(name=name, steps=[out], sagemaker_session=session)


def bump(x):
    return x + 1


def test_artifact_records_match_what_was_written(in_process_session):
    """Small results are kept inline (in the store's database, no file); a large one is written
    as files whose records, taken while writing, match them."""

    def make(x):
        return {"value": x + 1, "blob": b"\0" * 100_000}  # not JSON: payload.pkl only

    pipe = chain(in_process_session, "arts", 3, bump)
    ex = pipe.start()
    ex.wait()
    store = in_process_session.store
    records = json.loads(store.load_steps(ex.arn))
    assert [r["StepStatus"] for r in records] == ["Succeeded"] * 3
    for rec in records:
        names = sorted(os.path.basename(a["Uri"]) for a in rec["Artifacts"])
        assert names == ["payload.pkl", "results.json"]
        for art in rec["Artifacts"]:
            assert art["Inline"] is True and art["MtimeNs"] == 0
            assert not os.path.exists(store.uri_to_path(art["Uri"]))
            data = open_object(store, art["Uri"]).read()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (art["Size"], art["Sha256"])
    assert ex.result("s2") == 3
    assert not os.path.exists(store.uri_to_path(records[0]["FunctionResultsUri"])), "no results directory"

    ex = Pipeline(name="blob", steps=[step(name="b")(make)(1)], sagemaker_session=in_process_session).start()
    ex.wait()
    (rec,) = json.loads(store.load_steps(ex.arn))
    (art,) = rec["Artifacts"]
    assert os.path.basename(art["Uri"]) == "payload.pkl" and "Inline" not in art
    path = store.uri_to_path(art["Uri"])
    st = os.stat(path)
    assert (st.st_size, st.st_mtime_ns) == (art["Size"], art["MtimeNs"])
    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == art["Sha256"]
    assert ex.result("b")["value"] == 2


def test_only_steps_that_print_have_a_log_file(in_process_session):
    def quiet():
        return 1

    def loud(x):
        print("hello from loud", x)
        return x

    ex = Pipeline(
        name="logs", steps=[step(name="Loud")(loud)(step(name="Quiet")(quiet)())], sagemaker_session=in_process_session
    ).start()
    ex.wait()
    assert ex.describe()["PipelineExecutionStatus"] == "Succeeded"
    store = in_process_session.store
    assert not os.path.exists(store.log_path(ex.arn, "Quiet"))
    assert ex.logs("Quiet") == ""
    assert "hello from loud 1" in ex.logs("Loud")


def test_a_step_running_a_while_is_listed_as_executing(in_process_session):
    def slow():
        time.sleep(2.0)
        return 1

    ex = Pipeline(name="slow", steps=[step(name="Slow")(slow)()], sagemaker_session=in_process_session).start()
    deadline = time.time() + 1.8  # the record is held back 20 ms, not for the whole step
    seen = None
    while time.time() < deadline and seen != "Executing":
        seen = {s["StepName"]: s["StepStatus"] for s in ex.list_steps()}.get("Slow")
        time.sleep(0.02)
    assert seen == "Executing"
    ex.wait()
    assert [s["StepStatus"] for s in ex.list_steps()] == ["Succeeded"]


def nap(x):
    time.sleep(0.02)
    return x + 1


def test_a_stop_asked_through_the_store_is_noticed_between_fast_steps(in_process_session):
    # Steps end every ~20 ms, so the scheduler is never idle for its 200 ms poll; it used to
    # check for a stop request only when idle, and ran the whole chain.
    n = 120
    ex = chain(in_process_session, "busy", n, nap).start()
    time.sleep(0.3)
    in_process_session.store.request_stop(ex.arn)  # what a stop from another process does
    ex.wait()
    assert ex.describe()["PipelineExecutionStatus"] == "Stopped"
    done = [s for s in ex.list_steps() if s["StepStatus"] == "Succeeded"]
    assert len(done) < n - 20
