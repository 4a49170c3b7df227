"""``SessionSettings`` (mirror of ``sagemaker.session_settings``)."""

from typing import Optional


class SessionSettings:
    """Optional settings of a session.

    Args:
        encrypt_repacked_artifacts (bool): Whether repacked model artifacts are encrypted at rest
            (recorded; local files are not encrypted).
        local_download_dir (str): A local directory for downloaded artifacts.
        include_jumpstart_tags (bool): Whether JumpStart models get their descriptive tags.
    """

    def __init__(
        self,
        encrypt_repacked_artifacts: bool = True,
        local_download_dir: Optional[str] = None,
        include_jumpstart_tags: bool = True,
    ) -> None:
        self._encrypt_repacked_artifacts = encrypt_repacked_artifacts
        self._local_download_dir = local_download_dir
        self._include_jumpstart_tags = include_jumpstart_tags

    @property
    def encrypt_repacked_artifacts(self) -> bool:
        """Whether repacked artifacts are encrypted at rest by default."""
        return self._encrypt_repacked_artifacts

    @property
    def local_download_dir(self) -> Optional[str]:
        """The local directory for downloading artifacts."""
        return self._local_download_dir

    @property
    def include_jumpstart_tags(self) -> bool:
        """Whether JumpStart tags are attached to models with JumpStart artifacts."""
        return self._include_jumpstart_tags
