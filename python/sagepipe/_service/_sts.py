"""STS, locally: the caller is the local account (the SDK reads it to name its default bucket)."""

from typing import Any, Dict

from sagepipe._service._errors import LocalService

ACCOUNT = "000000000000"


class LocalSts(LocalService):
    service = "STS"
    OPERATIONS = ("GetCallerIdentity",)

    def get_caller_identity(self, params: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
        return {"UserId": "SAGEPIPELOCAL", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/sagepipe"}
