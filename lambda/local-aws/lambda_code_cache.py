"""Unpacks a Lambda function's zip (moto keeps the bytes) into a folder, once per code digest."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import threading
import zipfile


class CodeCache:
    """Folders of unpacked function code under `root`, keyed by the zip's SHA-256.

    Keyed by content rather than function name, so UpdateFunctionCode is picked up on the next
    invoke and identical zips share one folder.
    """

    def __init__(self, root: str) -> None:
        self._root = root
        self._lock = threading.Lock()

    def directory_for(self, code_bytes: bytes) -> str:
        digest = hashlib.sha256(code_bytes).hexdigest()
        target = os.path.join(self._root, digest)
        with self._lock:
            if not os.path.isdir(target):
                # Unpack beside the target and rename, so a concurrent invoke never sees a
                # half-written folder.
                staging = tempfile.mkdtemp(dir=self._root, prefix=".unpack-")
                try:
                    with zipfile.ZipFile(io.BytesIO(code_bytes)) as archive:
                        # extractall drops absolute paths and ".." parts of member names.
                        archive.extractall(staging)
                    os.rename(staging, target)
                except BaseException:
                    shutil.rmtree(staging, ignore_errors=True)
                    raise
        return target
