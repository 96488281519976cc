"""Reading a catalog from where it lives: an ``http(s)://`` URL, a ``file://`` URL or a path.

A download is kept on disk with its ``ETag`` and ``Last-Modified``, and the
next read asks the server whether it changed (a 304 reads the kept copy). A
zip file (a store's release archive) and a folder are read as trees of their
catalog files (``.json``, ``.yml``, ``.yaml``); anything else is one file.
Every read is bounded in size.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import httpx

from skyport.api import CatalogFiles

CATALOG_SUFFIXES = (".json", ".yml", ".yaml")
MAX_FILES = 20_000
ZIP_MAGIC = b"PK\x03\x04"


class CatalogUnreadable(Exception):
    """The catalog could not be read; the message says why, in words."""


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def local_path(location: str) -> Path | None:
    """The path a ``file://`` URL or an absolute path names; None for web URLs."""
    if location.startswith("file://"):
        return Path(unquote(urlsplit(location).path))
    if location.startswith("/"):
        return Path(location)
    return None


class CatalogReader:
    """Reads catalogs, keeping downloads in ``cache_dir`` (one folder per source)."""

    def __init__(self, cache_dir: Path, *, timeout: float, max_bytes: int) -> None:
        self.cache_dir = cache_dir
        self.timeout = timeout
        self.max_bytes = max_bytes

    async def read(self, source: str, location: str) -> CatalogFiles:
        """The catalog's files (:class:`CatalogUnreadable` with the reason otherwise)."""
        path = local_path(location)
        if path is not None:
            files = await asyncio.to_thread(self._read_path, path)
        elif is_url(location):
            name, body = await self._download(source, location)
            files = await asyncio.to_thread(self._unpack, name, body)
        else:
            raise CatalogUnreadable(f"{location!r} is neither an http(s):// URL nor a path")
        return CatalogFiles(location, files)

    async def read_one(self, location: str) -> bytes:
        """One file, fresh (no kept copy): a Compose file a template points at."""
        path = local_path(location)
        if path is not None:
            return await asyncio.to_thread(self._read_file, path)
        if not is_url(location):
            raise CatalogUnreadable(f"{location!r} is neither an http(s):// URL nor a path")
        return (await self._get(location, {}))[1]

    # -- the web -----------------------------------------------------------------

    async def _download(self, source: str, url: str) -> tuple[str, bytes]:
        folder = self.cache_dir / source
        meta_path, body_path = folder / "meta.json", folder / "body"
        meta = _read_meta(meta_path) if body_path.is_file() else {}
        headers = {}
        if meta.get("url") == url:
            if meta.get("etag"):
                headers["If-None-Match"] = meta["etag"]
            if meta.get("last_modified"):
                headers["If-Modified-Since"] = meta["last_modified"]
        name = PurePosixPath(urlsplit(url).path).name or "catalog"
        response, body = await self._get(url, headers)
        if response.status_code == 304:
            return name, await asyncio.to_thread(body_path.read_bytes)
        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        await asyncio.to_thread(_keep, folder, url, body, etag, modified)
        return name, body

    async def _get(self, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
        """The response and its (bounded) body; a 304 has an empty one."""
        try:
            async with (
                httpx.AsyncClient(timeout=self.timeout, follow_redirects=True) as http,
                http.stream("GET", url, headers=headers) as response,
            ):
                if response.status_code == 304:
                    return response, b""
                if response.status_code >= 400:
                    raise CatalogUnreadable(f"{url} answered HTTP {response.status_code}")
                return response, await self._bounded(response, url)
        except httpx.TimeoutException:
            raise CatalogUnreadable(f"{url} did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise CatalogUnreadable(f"cannot reach {url}: {exc or type(exc).__name__}") from None

    async def _bounded(self, response: httpx.Response, url: str) -> bytes:
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise CatalogUnreadable(f"{url} is larger than {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    # -- files, folders and zips -------------------------------------------------------

    def _read_path(self, path: Path) -> dict[str, bytes]:
        if path.is_dir():
            return self._read_folder(path)
        return self._unpack(path.name, self._read_file(path))

    def _read_file(self, path: Path) -> bytes:
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise CatalogUnreadable(f"{path} is larger than {self.max_bytes} bytes")
            return path.read_bytes()
        except FileNotFoundError:
            raise CatalogUnreadable(f"no such file or folder: {path}") from None
        except OSError as exc:
            raise CatalogUnreadable(f"cannot read {path}: {exc.strerror or exc}") from None

    def _read_folder(self, root: Path) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        total = 0
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if path.suffix.lower() not in CATALOG_SUFFIXES or not path.is_file():
                continue
            total += path.stat().st_size
            if total > self.max_bytes or len(files) >= MAX_FILES:
                raise CatalogUnreadable(f"{root} holds more than {self.max_bytes} bytes of catalog")
            files[relative.as_posix()] = path.read_bytes()
        if not files:
            raise CatalogUnreadable(f"{root} holds no catalog file (.json, .yml, .yaml)")
        return files

    def _unpack(self, name: str, body: bytes) -> dict[str, bytes]:
        if not body.startswith(ZIP_MAGIC):
            return {name: body}
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                return self._zip_members(archive, name)
        except zipfile.BadZipFile as exc:
            raise CatalogUnreadable(f"{name} is a damaged zip file: {exc}") from None

    def _zip_members(self, archive: zipfile.ZipFile, name: str) -> dict[str, bytes]:
        files: dict[str, bytes] = {}
        total = 0
        for info in archive.infolist():
            path = PurePosixPath(info.filename)
            if info.is_dir() or path.suffix.lower() not in CATALOG_SUFFIXES:
                continue
            if path.is_absolute() or ".." in path.parts:
                continue
            total += info.file_size
            if total > self.max_bytes or len(files) >= MAX_FILES:
                raise CatalogUnreadable(f"{name} unpacks to more than {self.max_bytes} bytes")
            files[path.as_posix()] = archive.read(info)
        if not files:
            raise CatalogUnreadable(f"{name} holds no catalog file (.json, .yml, .yaml)")
        return files


def _read_meta(path: Path) -> dict[str, str]:
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _keep(folder: Path, url: str, body: bytes, etag: str | None, modified: str | None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "body").write_bytes(body)
    meta = {"url": url, "etag": etag, "last_modified": modified, "fetched": time.time()}
    (folder / "meta.json").write_text(json.dumps(meta))
