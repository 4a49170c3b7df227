"""``LocalSession`` (mirror of ``sagemaker.local.local_session``)."""

from typing import Any, Optional

from sagepipe.session import Session


class LocalSession(Session):
    """The SDK's local-mode session; locally the same as :class:`sagepipe.session.Session`.

    Args:
        boto_session: Accepted for compatibility; unused.
        default_bucket (str): Bucket of default ``s3://`` locations (a folder of the store).
        s3_endpoint_url (str): Accepted for compatibility; unused (S3 is the store).
        disable_local_code (bool): Accepted for compatibility; code is always local.
        sagemaker_config (dict): The SDK defaults config (see :mod:`sagepipe.config`).
        default_bucket_prefix (str): Prefix of default ``s3://`` keys.
        store: Directory of the sagepipe store (keyword only).
    """

    local_mode = True

    def __init__(
        self,
        boto_session: Any = None,
        default_bucket: Optional[str] = None,
        s3_endpoint_url: Optional[str] = None,
        disable_local_code: bool = False,
        sagemaker_config: Optional[dict] = None,
        default_bucket_prefix: Optional[str] = None,
        *,
        store: Any = None,
    ):
        self.s3_endpoint_url = s3_endpoint_url
        self._disable_local_code = disable_local_code
        super().__init__(
            boto_session=boto_session,
            default_bucket=default_bucket,
            sagemaker_config=sagemaker_config,
            default_bucket_prefix=default_bucket_prefix,
            store=store,
        )
