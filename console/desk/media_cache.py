"""Customers' and agents' files on the console's disk, with a bound.

One directory (owner-only: these are customers' files), a file per media id and a JSON sidecar
with its type and name. The total stays under `max_bytes`: after each new file the least
recently used files go first (reading a file touches it). A file above `max_file_bytes` is
never kept. Files are written under a temporary name and renamed, so a reader never sees half
of one; racing writers of one id leave one whole file.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 256 * MB
DEFAULT_MAX_FILE_BYTES = 100 * MB  # WhatsApp's largest file (a document): none is refused
SIDECAR = ".json"


def default_directory() -> Path:
    return Path(tempfile.gettempdir()) / f"console-media-{os.getuid()}"


@dataclass(frozen=True)
class CachedFile:
    path: Path
    mime_type: str
    size: int
    filename: str | None = None


class MediaCache:
    def __init__(self, directory: str | Path | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        self.directory = Path(directory) if directory else default_directory()
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        self.max_bytes = max_bytes
        self.max_file_bytes = min(max_file_bytes, max_bytes)
        self._lock = threading.Lock()

    def _path(self, media_id: str) -> Path:
        return self.directory / hashlib.sha256(media_id.encode()).hexdigest()[:40]

    def get(self, media_id: str) -> CachedFile | None:
        path = self._path(media_id)
        try:
            meta = json.loads(path.with_suffix(SIDECAR).read_text())
            size = path.stat().st_size
            os.utime(path)  # recently used: evicted last
        except (OSError, ValueError):
            return None
        return CachedFile(path, str(meta["mime_type"]), size, meta.get("filename"))

    @contextlib.contextmanager
    def writer(self, media_id: str, mime_type: str, filename: str | None) -> Iterator[IO[bytes]]:
        """Write the file into the yielded handle; it is kept when the block ends without an
        error (and fits the bound), dropped otherwise."""
        handle = tempfile.NamedTemporaryFile(dir=self.directory, prefix=".part-", delete=False)
        part = Path(handle.name)
        try:
            with handle:
                yield handle
            self._keep(media_id, part, mime_type, filename)
        finally:
            part.unlink(missing_ok=True)

    def put(self, media_id: str, data: bytes, mime_type: str, filename: str | None = None) -> None:
        with self.writer(media_id, mime_type, filename) as out:
            out.write(data)

    def _keep(self, media_id: str, part: Path, mime_type: str, filename: str | None) -> None:
        if part.stat().st_size > self.max_file_bytes:
            return
        path = self._path(media_id)
        with self._lock:
            path.with_suffix(SIDECAR).write_text(json.dumps({"mime_type": mime_type, "filename": filename}))
            os.replace(part, path)
            self._evict(keep=path)

    def _evict(self, keep: Path) -> None:
        files = []
        for path in self.directory.iterdir():
            if path.suffix or path.name.startswith("."):
                continue
            with contextlib.suppress(OSError):
                stat = path.stat()
                files.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in files)
        for _, size, path in sorted(files):
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            path.unlink(missing_ok=True)
            path.with_suffix(SIDECAR).unlink(missing_ok=True)
            total -= size

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.directory.iterdir()
                   if not p.suffix and not p.name.startswith("."))
