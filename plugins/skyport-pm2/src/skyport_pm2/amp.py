"""AMP framing and amp-message argument encoding: the wire format of PM2's axon sockets.

A message is one header byte, ``(version << 4) | argc`` with version 1, then
``argc`` arguments, each a big-endian ``uint32`` length and that many bytes.
There is no outer length: :class:`Parser` is fed whatever a read returned
and yields whole messages. Arguments starting ``s:`` are strings, ``j:`` JSON
(any other value), anything else raw bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import msgspec

VERSION = 1
MAX_ARGS = 15
MAX_ARG_BYTES = 256 * 1024 * 1024
"""A length beyond this is a corrupt stream, not a message worth waiting for."""

_LENGTH = struct.Struct(">I")


class FramingError(ValueError):
    """The byte stream is not AMP (wrong version, absurd length)."""


def encode_arg(value: Any) -> bytes:
    """``s:<utf8>`` for a string, raw for bytes, ``j:<json>`` for anything else."""
    if isinstance(value, str):
        return b"s:" + value.encode()
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return b"j:" + msgspec.json.encode(value)


def decode_arg(raw: bytes) -> Any:
    kind = raw[:2]
    if kind == b"s:":
        return raw[2:].decode(errors="replace")
    if kind == b"j:":
        return msgspec.json.decode(raw[2:])
    return raw


def encode(*args: Any) -> bytes:
    """One message holding ``args`` (at most 15)."""
    if len(args) > MAX_ARGS:
        raise ValueError(f"an AMP message holds at most {MAX_ARGS} arguments")
    parts = [bytes([(VERSION << 4) | len(args)])]
    for arg in args:
        data = encode_arg(arg)
        parts += [_LENGTH.pack(len(data)), data]
    return b"".join(parts)


class Parser:
    """Streaming decoder: :meth:`feed` bytes, get the complete messages so far."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[list[Any]]:
        self._buffer += data
        while (message := self._take()) is not None:
            yield message

    def _take(self) -> list[Any] | None:
        buffer = self._buffer
        if not buffer:
            return None
        version, argc = buffer[0] >> 4, buffer[0] & 0x0F
        if version != VERSION:
            raise FramingError(f"unknown AMP version {version}")
        offset, spans = 1, []
        for _ in range(argc):
            if len(buffer) < offset + 4:
                return None
            (length,) = _LENGTH.unpack_from(buffer, offset)
            if length > MAX_ARG_BYTES:
                raise FramingError(f"AMP argument of {length} bytes")
            offset += 4
            if len(buffer) < offset + length:
                return None
            spans.append((offset, offset + length))
            offset += length
        message = [decode_arg(bytes(buffer[start:end])) for start, end in spans]
        del buffer[:offset]
        return message
