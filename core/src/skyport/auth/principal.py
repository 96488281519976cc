"""Who is making a request, and what they may do."""

from __future__ import annotations

from typing import Literal

import msgspec

ALL_SCOPES = "*"

AuthMethod = Literal["session", "token", "local"]


class Principal(msgspec.Struct, frozen=True):
    """The authenticated user behind a request or WebSocket."""

    user_id: int
    username: str
    role: str
    scopes: frozenset[str]
    method: AuthMethod
    session_id: str | None = None
    token_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return ALL_SCOPES in self.scopes

    def has_scope(self, scope: str) -> bool:
        return ALL_SCOPES in self.scopes or scope in self.scopes

    def missing(self, scopes: list[str] | tuple[str, ...]) -> list[str]:
        return [s for s in scopes if not self.has_scope(s)]
