"""Files over SFTP on a server's pooled connection: list a directory, read, write.

Sizes are limited (``max_download``, ``max_upload``); the server's refusals
(no such file, permission denied, not a directory) become 4xx answers that
name the server and the path.
"""

from __future__ import annotations

import contextlib
import errno
import posixpath
import stat
from collections.abc import Iterator

import msgspec
import paramiko
from litestar.exceptions import NotFoundException

from skyport_vps import errors
from skyport_vps.inventory import Server
from skyport_vps.pool import Pool

MAX_ENTRIES = 10_000
CHUNK = 32768


class FileEntry(msgspec.Struct, kw_only=True):
    name: str
    path: str
    size: int
    kind: str
    """``file``, ``dir``, ``link`` or ``other``."""
    mode: str
    """Permission bits in octal, ``0644``."""
    modified: float | None = None


def _entry(path: str, attrs: paramiko.SFTPAttributes) -> FileEntry:
    mode = attrs.st_mode or 0
    if stat.S_ISDIR(mode):
        kind = "dir"
    elif stat.S_ISLNK(mode):
        kind = "link"
    elif stat.S_ISREG(mode):
        kind = "file"
    else:
        kind = "other"
    return FileEntry(
        name=posixpath.basename(path.rstrip("/")) or "/",
        path=path,
        size=attrs.st_size or 0,
        kind=kind,
        mode=f"{stat.S_IMODE(mode):04o}",
        modified=float(attrs.st_mtime) if attrs.st_mtime is not None else None,
    )


@contextlib.contextmanager
def _session(pool: Pool, server: Server, path: str) -> Iterator[paramiko.SFTPClient]:
    """An SFTP session; the server's refusals translated for the API."""
    client = pool.sftp(server)
    try:
        yield client
    except OSError as exc:
        code = getattr(exc, "errno", None)
        if code == errno.ENOENT:
            raise NotFoundException(f"{server.name}: no such file or directory: {path}") from None
        reason = {
            errno.EACCES: "permission denied",
            errno.ENOTDIR: "not a directory",
            errno.EISDIR: "is a directory",
        }.get(code or 0, str(exc.strerror or exc) or "refused")
        raise errors.FileError(server.name, f"{path}: {reason}", path=path) from None
    except (paramiko.SSHException, EOFError) as exc:
        pool.discard(server.name)
        raise errors.Unreachable(server.name, f"SFTP failed: {exc or type(exc).__name__}") from None
    finally:
        client.close()


def list_dir(pool: Pool, server: Server, path: str) -> list[FileEntry]:
    """The entries of a directory (at most :data:`MAX_ENTRIES`), directories first."""
    with _session(pool, server, path) as sftp:
        entries = [
            _entry(posixpath.join(path, a.filename), a)
            for a in sftp.listdir_iter(path, read_aheads=64)
        ]
    entries.sort(key=lambda e: (e.kind != "dir", e.name))
    return entries[:MAX_ENTRIES]


def read_file(pool: Pool, server: Server, path: str, limit: int) -> bytes:
    """The whole file, if it is a regular file no bigger than ``limit`` bytes."""
    with _session(pool, server, path) as sftp:
        attrs = sftp.stat(path)
        if attrs.st_mode is not None and stat.S_ISDIR(attrs.st_mode):
            raise errors.FileError(server.name, f"{path}: is a directory", path=path)
        if (attrs.st_size or 0) > limit:
            raise errors.TooLarge(
                server.name,
                f"{path} is {attrs.st_size} bytes, more than the download limit ({limit} bytes)",
                path=path,
            )
        with sftp.open(path, "rb") as remote:
            remote.prefetch(attrs.st_size)
            data = remote.read(limit + 1)
    if len(data) > limit:
        raise errors.TooLarge(server.name, f"{path} grew past the download limit", path=path)
    return data


def write_file(pool: Pool, server: Server, path: str, data: bytes, mode: int | None) -> FileEntry:
    """Write (create or replace) a file; ``mode`` sets its permission bits."""
    with _session(pool, server, path) as sftp:
        with sftp.open(path, "wb") as remote:
            remote.set_pipelined(True)
            for start in range(0, len(data), CHUNK):
                remote.write(data[start : start + CHUNK])
        if mode is not None:
            sftp.chmod(path, mode)
        attrs = sftp.stat(path)
    return _entry(path, attrs)
