"""STS, locally: the caller is the local account (the SDK reads it to name its default bucket)
acting as one role (what ``sagemaker.get_execution_role()`` returns)."""

from typing import Any, Dict

from sagepipe._core import LOCAL_ACCOUNT
from sagepipe._service._errors import LocalService

ACCOUNT = LOCAL_ACCOUNT
ROLE_NAME = "SageMakerExecutionRole"  # the role this machine's user acts as
ROLE_SESSION = "sagepipe"


class LocalSts(LocalService):
    service = "STS"
    OPERATIONS = ("GetCallerIdentity",)

    def get_caller_identity(self, params: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        # An assumed role, as in a SageMaker notebook: the SDK's get_execution_role() derives the
        # role from it (and reads it back with IAM GetRole).
        return {
            "UserId": f"SAGEPIPELOCAL:{ROLE_SESSION}",
            "Account": ACCOUNT,
            "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/{ROLE_SESSION}",
        }
