"""Report files: check the path before measuring, write atomically.

A report is checked before the work that produces it (a run can last
minutes: a path found unwritable after it is a run lost), then written to a
temporary file beside the target and renamed over it with ``os.replace``,
which is atomic on one file system: an error, a full disk or Ctrl-C leaves
either the previous file or the new one, never half of one, and no
temporary file behind.
"""

from __future__ import annotations

import os
import tempfile

__all__ = ["check_writable", "write_atomic"]


def check_writable(path, what: str, error=ValueError) -> None:
    """Raise `error` naming `what` unless a file can be written at `path`.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (it need not exist).
    what : str
        The option or role of the file, for the message (``"--json"``).
    error : type, optional
        The exception class to raise (a ``ValueError`` subclass).

    Raises
    ------
    error
        If `path` is a folder, its folder does not exist, or that folder
        cannot be written.
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        raise error(f"{what}: {path!r} is a folder, expected a file name")
    if not os.path.isdir(parent):
        raise error(f"{what}: folder {parent!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise error(f"{what}: cannot write in {parent!r} (permission denied)")


def write_atomic(path, text: str, what: str, error=ValueError) -> str:
    """Write `text` (UTF-8) to `path` through a temporary file beside it.

    Parameters
    ----------
    path : str or os.PathLike
        The file to (over)write.
    text : str
        Its whole content.
    what : str
        The option or role of the file, for error messages.
    error : type, optional
        The exception class for a path that cannot be written.

    Returns
    -------
    str
        `path`.

    Raises
    ------
    error
        If the path cannot be written (checked first, then any ``OSError``
        while writing, e.g. a full disk); the temporary file is removed.
    """
    path = os.fspath(path)
    check_writable(path, what, error)
    parent = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".gilfree-", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:  # Ctrl-C too: never leave the temporary file
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise error(f"{what}: cannot write {path!r}: {exc.strerror or exc}") from exc
        raise
    return path
