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

__all__ = ["check_writable", "output_problem", "write_atomic"]


def output_problem(path: str, folder: bool = False) -> str | None:
    """Why `path` cannot be written, or None if it can.

    A file (`folder` false) needs an existing folder it can write in and must
    not itself be a folder; a folder (`folder` true) must be a folder it can
    write in, or not exist yet with such a folder above it (it is created).
    """
    if not path:
        return "no path given"
    full = os.path.abspath(path)
    if folder:
        if os.path.exists(full):
            if not os.path.isdir(full):
                return f"{path!r} is a file, expected a folder"
            if not os.access(full, os.W_OK | os.X_OK):
                return f"cannot write in {path!r} (permission denied)"
            return None
        parent = os.path.dirname(full)
        if not os.path.isdir(parent):
            return f"folder {parent!r} does not exist"
        if not os.access(parent, os.W_OK | os.X_OK):
            return f"cannot create {path!r} in {parent!r} (permission denied)"
        return None
    if os.path.isdir(full):
        return f"{path!r} is a folder, expected a file name"
    parent = os.path.dirname(full)
    if not os.path.isdir(parent):
        if os.path.exists(parent):
            return f"{parent!r} is a file, not a folder"
        return f"folder {parent!r} does not exist"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"cannot write in {parent!r} (permission denied)"
    return None


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
        With :func:`output_problem`'s reason.
    """
    why = output_problem(os.fspath(path))
    if why:
        raise error(f"{what}: {why}")


def write_atomic(path, text, what: str, error=ValueError) -> str:
    """Write `text` (str as UTF-8, or bytes) to `path` through a temporary
    file beside it.

    Parameters
    ----------
    path : str or os.PathLike
        The file to (over)write.
    text : str or bytes
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
    try:
        fd, tmp = tempfile.mkstemp(prefix=".gilfree-", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise error(f"{what}: cannot write {path!r}: {exc.strerror or exc}") from exc
    try:
        if isinstance(text, bytes):
            with os.fdopen(fd, "wb") as f:
                f.write(text)
        else:
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
