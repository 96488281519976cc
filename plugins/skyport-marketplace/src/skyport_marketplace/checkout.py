"""Fetching what a template points at, at install time: its Compose file or its source code.

A stack's Compose file may be at a URL (``https://``, ``file://``, a path) or
in a git repository; a Node.js app's code is in a git repository or a folder
on the server, and is checked out into the install's own folder, where the
PM2 deployer installs and runs it. Git runs without prompts, without the
``ext::`` transport, and within a time limit.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

from litestar.exceptions import ClientException

from skyport.api import NodeSpec, StackSpec
from skyport_marketplace.fetch import CatalogReader, CatalogUnreadable, local_path

GIT_TIMEOUT = 600.0
COPY_IGNORED = (".git", "node_modules")


class FetchFailed(ClientException):
    """What the template points at could not be fetched (424: the source failed, not you)."""

    status_code = 424


async def compose_text(stack: StackSpec, reader: CatalogReader) -> str:
    """The stack's Compose file, from wherever the template says it is."""
    if stack.compose:
        return stack.compose
    if stack.compose_url:
        try:
            return (await reader.read_one(stack.compose_url)).decode("utf-8", "replace")
        except CatalogUnreadable as exc:
            raise FetchFailed(f"cannot fetch the compose file: {exc}") from None
    if stack.repository and stack.stackfile:
        return await asyncio.to_thread(_from_repository, stack.repository, stack.stackfile)
    raise FetchFailed("the template says nowhere what its compose file is")


def _from_repository(repository: str, stackfile: str) -> str:
    relative = PurePosixPath(stackfile)
    if relative.is_absolute() or ".." in relative.parts:
        raise FetchFailed(f"stackfile {stackfile!r} is outside the repository")
    with tempfile.TemporaryDirectory(prefix="skyport-compose-") as folder:
        root = _source_tree(repository, Path(folder) / "repo", "")
        try:
            return (root / relative).read_text(errors="replace")
        except OSError as exc:
            raise FetchFailed(f"{stackfile} in {repository}: {exc.strerror or exc}") from None


async def check_out(node: NodeSpec, folder: Path) -> Path:
    """The app's code in ``folder`` (replaced if there), from git or a folder on the server."""
    return await asyncio.to_thread(_check_out, node, folder)


def _check_out(node: NodeSpec, folder: Path) -> Path:
    partial = folder.with_name(folder.name + ".new")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        _source_tree(node.repository, partial, node.ref)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)
    partial.replace(folder)
    return folder


def _source_tree(repository: str, target: Path, ref: str) -> Path:
    """Copy a folder on the server (as it is: no ``ref``), else ``git clone`` to ``target``."""
    path = local_path(repository)
    if path is not None and path.is_dir() and not ref:
        shutil.copytree(path, target, ignore=shutil.ignore_patterns(*COPY_IGNORED), symlinks=True)
        return target
    _git_clone(repository, target, ref)
    return target


def _git_clone(repository: str, target: Path, ref: str) -> None:
    git = shutil.which("git")
    if git is None:
        raise FetchFailed(f"cannot fetch {repository}: git is not installed on the server")
    argv = [git, "-c", "protocol.ext.allow=never", "clone", "--depth", "1", "--quiet"]
    if ref:
        argv += ["--branch", ref]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    try:
        done = subprocess.run(
            [*argv, "--", repository, str(target)],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise FetchFailed(f"git clone {repository} took longer than {GIT_TIMEOUT:g} s") from None
    if done.returncode != 0:
        reason = " ".join(done.stderr.split())[-500:] or f"exit {done.returncode}"
        raise FetchFailed(f"git clone {repository} failed: {reason}")
