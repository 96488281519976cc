"""Where a release's files come from: a tar.gz upload, a git clone; and packing a folder.

Every release gets a folder of its own under the plugin's data dir; an
upload is unpacked there with tarfile's ``data`` filter (no absolute paths,
no ``..``, no links out, no devices) within size and count limits; a git URL
is cloned there (``https``, ``http``, ``ssh``, ``git`` and ``user@host:path``
only: never a path or ``file://`` on this server).
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import tarfile
from pathlib import Path
from typing import IO

from dotenv import dotenv_values
from litestar.exceptions import ClientException

from skyport_deploy.tree import MAX_FILES

PACK_SKIPPED = frozenset(
    {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".next", ".nuxt"}
    | {".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".cache"}
)
"""Folders the CLI leaves out of an upload: the server installs or rebuilds them."""
GIT_URL = re.compile(r"^(?:(?:https?|ssh|git)://[^\s/]+/\S+|[\w.-]+@[\w.-]+:[^\s]+)$")
GIT_REF = re.compile(r"^[\w./-]{1,200}$")
OUTPUT_KEPT = 600
"""Characters of a failed clone's output its error repeats."""


def invalid(field: str, message: str) -> ClientException:
    return ClientException(f"{field}: {message}", extra={"field": field})


def unpack(archive: IO[bytes], folder: Path, max_bytes: int) -> int:
    """Unpack a tar.gz of a project into ``folder`` (made here); the number of files."""
    folder.mkdir(parents=True)
    try:
        with tarfile.open(fileobj=archive, mode="r:*") as tar:
            members = []
            total = 0
            for member in tar:
                total += member.size
                if total > max_bytes:
                    raise invalid("project", f"unpacks to more than {max_bytes} bytes")
                members.append(member)
                if len(members) > MAX_FILES:
                    raise invalid("project", f"holds more than {MAX_FILES} files")
            tar.extractall(folder, members=members, filter="data")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise invalid("project", f"not a readable tar.gz archive ({exc})") from None
    return sum(1 for m in members if m.isfile())


def check_git_url(url: str, ref: str) -> None:
    """400 unless ``url`` is a remote git URL (and ``ref`` a plain branch or tag name)."""
    if not GIT_URL.match(url) or url.startswith("-"):
        raise invalid(
            "git", f"{url!r} is not a git URL this server may clone (https://, ssh://, git://)"
        )
    if ref and (not GIT_REF.match(ref) or ref.startswith("-") or ".." in ref):
        raise invalid("ref", f"{ref!r} is not a branch or tag name")


async def clone(url: str, ref: str, folder: Path, within: float) -> str:
    """``git clone --depth 1`` into ``folder``; the commit cloned. 400 with git's words if
    it fails; nothing is left of a clone that failed."""
    check_git_url(url, ref)
    protocols = ["-c", "protocol.allow=never"]
    for allowed in ("https", "http", "ssh", "git"):
        protocols += ["-c", f"protocol.{allowed}.allow=always"]
    branch = ["--branch", ref] if ref else []
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    try:
        await _git(
            [*protocols, "clone", "--quiet", "--depth", "1", *branch, "--", url, str(folder)],
            env,
            within,
        )
        commit = await _git(["-C", str(folder), "rev-parse", "--short", "HEAD"], env, within)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return commit.strip()


async def _git(args: list[str], env: dict[str, str], within: float) -> str:
    process = await asyncio.create_subprocess_exec(
        "git",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), within)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise invalid("git", f"the clone did not finish within {within:g} s") from None
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise invalid("git", f"git failed: {' '.join(text.split())[-OUTPUT_KEPT:]}")
    return text


def size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def project_env(folder: Path) -> dict[str, str]:
    """The variables of the project's ``.env`` file, if it has one."""
    path = folder / ".env"
    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def pack(folder: Path) -> bytes:
    """A tar.gz of the project at ``folder`` (without :data:`PACK_SKIPPED`), for the upload."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as tar:
        pending = [folder]
        while pending:
            current = pending.pop()
            for entry in sorted(os.scandir(current), key=lambda e: e.name):
                relative = Path(entry.path).relative_to(folder).as_posix()
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in PACK_SKIPPED:
                        pending.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False) or entry.is_symlink():
                    tar.add(entry.path, arcname=relative, recursive=False)
    return buffer.getvalue()
