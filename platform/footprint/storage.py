"""Footprint's file storage: benchmark data and submission tarballs, never served.

One folder (settings.FOOTPRINT_STORAGE_ROOT) reached through Django's storage API as
`storages["footprint"]`. Rows store paths relative to it; a job spec turns them into
`file://` URLs of absolute paths, because a runner on this host reads them directly.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages

STORAGE_ALIAS = "footprint"


class FootprintStorage(FileSystemStorage):
    """A FileSystemStorage rooted at settings.FOOTPRINT_STORAGE_ROOT, read on every use.

    FileSystemStorage caches its location, and `storages` caches the instance; reading the
    setting each time lets a test point the storage elsewhere with a settings override.
    """

    def __init__(self, **kwargs: object) -> None:
        kwargs.pop("location", None)
        # No base URL: nothing in this storage is ever served by the site.
        kwargs.setdefault("base_url", None)
        super().__init__(**kwargs)  # type: ignore[arg-type]

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(settings.FOOTPRINT_STORAGE_ROOT)

    @property  # type: ignore[override]
    def location(self) -> str:
        return str(Path(settings.FOOTPRINT_STORAGE_ROOT).resolve())

    def url(self, name: str | None) -> str:
        raise NotImplementedError("files in Footprint's storage are never served by URL")


def footprint_storage() -> FileSystemStorage:
    return storages[STORAGE_ALIAS]


def storage_root() -> Path:
    return Path(footprint_storage().location)


def storage_path(relative: str) -> Path:
    """The absolute path of a stored name; refuses names that leave the storage root."""
    # FileSystemStorage.path() joins safely (SuspiciousFileOperation on ../ or /abs).
    return Path(footprint_storage().path(relative))


def storage_file_url(relative: str, *, folder: bool = False) -> str:
    """The file:// URL of a stored name (with a trailing slash for a folder)."""
    url = storage_path(relative).as_uri()
    return url + "/" if folder and not url.endswith("/") else url
