"""An output folder nnrules owns only in part: it removes what it wrote before, nothing else.

``OutputFolder`` keeps a manifest (``.nnrules-manifest.json``) of the files nnrules wrote into
the folder. A new run first widens the manifest to the old and new files (so a run that dies
half-way leaves nothing unlisted), writes its files atomically, then writes the manifest of this
run's files and removes the files of the earlier run that this one did not write again: a
second ``extract`` into the same ``--out`` leaves no stale plots beside a new report, and files
nnrules did not write (a user's notes, data) are never touched. Files that others write for
nnrules (plots) go to a hidden staging folder first (``staging()``) and are moved in once listed,
so a run that dies while plotting leaves no unlisted plot behind (a staging folder left by a
killed run is removed by the next one).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nnrules.exceptions import FormatError
from nnrules.io.files import atomic_write_text

__all__ = ["MANIFEST", "OutputFolder"]

MANIFEST = ".nnrules-manifest.json"
STAGING = ".nnrules-staging-"
FORMAT = "nnrules/manifest"


def _plain_name(name: Any) -> bool:
    """A file name directly inside the folder: no separators, no '.', '..' or the manifest."""
    return (isinstance(name, str) and name not in ("", ".", "..", MANIFEST)
            and "/" not in name and "\\" not in name and "\0" not in name
            and os.sep not in name)


class OutputFolder:
    """Files written by one nnrules run into ``path``.

    Parameters
    ----------
    path : str or Path
        Created (with parents) if missing.
    replace : bool, default True
        Remove the files an earlier run wrote and this one did not (``extract``). False keeps
        them and adds this run's files to the manifest (``evaluate --out``).
    """

    def __init__(self, path: str | os.PathLike, *, replace: bool = True) -> None:
        self.path = Path(path)
        self.replace = replace
        self.path.mkdir(parents=True, exist_ok=True)
        self.previous = self._read_manifest()
        self.written: list[str] = []
        self._write_manifest(self.previous)  # also checks that the folder is writable early
        for old in self.path.glob(STAGING + "*"):  # left by a killed run; the name is ours
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)

    def _read_manifest(self) -> list[str]:
        from nnrules.io.serialize import parse_json

        path = self.path / MANIFEST
        if not path.is_file():
            return []
        try:
            d = parse_json(path.read_text(encoding="utf-8"), source=repr(str(path)))
        except (OSError, UnicodeDecodeError, FormatError):
            return []  # unreadable: forget it, remove nothing
        if not isinstance(d, dict) or d.get("format") != FORMAT or not isinstance(
                d.get("files"), list):
            return []
        return sorted({name for name in d["files"] if _plain_name(name)})

    def _write_manifest(self, names: list[str]) -> None:
        text = json.dumps({"format": FORMAT, "version": 1, "files": sorted(set(names))},
                          indent=2, sort_keys=True) + "\n"
        atomic_write_text(self.path / MANIFEST, text)

    def file(self, name: str) -> Path:
        """The path for ``name``, recorded as written by this run (call before writing)."""
        self.record([name])
        return self.path / name

    def write_text(self, name: str, text: str) -> Path:
        """Write ``text`` to ``name`` atomically; returns its path."""
        path = self.file(name)
        atomic_write_text(path, text)
        return path

    def record(self, names: list[str]) -> None:
        """Record files someone else wrote into the folder (plots) as this run's."""
        new = []
        for name in names:
            if not _plain_name(name):
                raise ValueError(f"Output file names are plain names inside the folder; got "
                                 f"{name!r}.")
            if name not in self.written and name not in new:
                new.append(name)
        if new:
            self.written.extend(new)
            self._write_manifest(self.previous + self.written)

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A hidden folder inside this one for files others write (plots); ``adopt`` moves
        them in. Removed with whatever is left in it when the block ends."""
        folder = Path(tempfile.mkdtemp(prefix=STAGING, dir=self.path))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def adopt(self, folder: Path, names: list[str]) -> None:
        """Record ``names`` (files in the staging ``folder``) and move them into this folder."""
        self.record(names)
        for name in names:
            os.replace(folder / name, self.path / name)

    def finish(self) -> list[str]:
        """Write the final manifest and remove the earlier run's leftovers; returns their names."""
        kept = self.written if self.replace else self.previous + self.written
        self._write_manifest(kept)
        removed = []
        if self.replace:
            for name in sorted(set(self.previous) - set(self.written)):
                path = self.path / name
                if path.is_file() and not path.is_symlink():
                    try:
                        path.unlink()
                    except OSError:
                        continue
                    removed.append(name)
        return removed
