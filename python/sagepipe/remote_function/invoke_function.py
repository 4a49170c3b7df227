"""The job process of a ``@remote`` function (``python -m sagepipe.remote_function.invoke_function
STORE BASE_URI``): load the function and its arguments from ``BASE_URI``, run it, store its
result (exit 0) or its exception (exit 1)."""

import sys
import traceback


def main(argv) -> int:
    from sagepipe.remote_function.client import ARGUMENTS_FOLDER, EXCEPTION_FOLDER, FUNCTION_FOLDER, RESULTS_FOLDER
    from sagepipe.remote_function.core import serialization
    from sagepipe.session import Session

    store, base = argv
    session = Session(store=store, sagemaker_config={"SchemaVersion": "1.0"})
    func = serialization.deserialize_func_from_s3(session, f"{base}/{FUNCTION_FOLDER}")
    args, kwargs = serialization.deserialize_obj_from_s3(session, f"{base}/{ARGUMENTS_FOLDER}")
    try:
        result = func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the function's exception is the job's result
        traceback.print_exc()
        try:
            serialization.serialize_exception_to_s3(exc, session, f"{base}/{EXCEPTION_FOLDER}")
        except serialization.SerializationError:
            pass  # the caller reports the exit status; the traceback is above
        return 1
    serialization.serialize_obj_to_s3(result, session, f"{base}/{RESULTS_FOLDER}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
