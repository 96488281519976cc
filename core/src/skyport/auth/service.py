"""Logins, sessions (JWT with a server-side id), API tokens and authentication.

A session token is a JWT (HS256, key derived from the master secret) whose
``sid`` names a row in ``sessions``: logout and revocation delete its power
at once. API tokens (``skp_<id>_<secret>``) are stored as SHA-256 hashes and
carry a subset of their owner's scopes. A credential's principal is cached for the
credential's lifetime, so a request costs a dictionary lookup, not a JWT check and a
database query. Revocation stays immediate: every change made through this server
clears the cache, as does one made on another node of a cluster (PostgreSQL
``NOTIFY``); and :meth:`AuthService.revalidate`, run by
:class:`~skyport.auth.live.LiveSessions` every ``auth.revocation_check_seconds``, reads
all cached credentials again in one query per kind, for changes made elsewhere (the
CLI in local mode, another server sharing a SQLite file).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jwt
import msgspec
import sqlalchemy as sa

from skyport.auth.passwords import verify_password
from skyport.auth.principal import AuthMethod, Principal
from skyport.auth.ratelimit import LoginLimiter
from skyport.auth.roles import RoleBook
from skyport.auth.users import User, UserBook
from skyport.config import AuthSettings
from skyport.store import Database
from skyport.store.tables import api_tokens, sessions, users

TOKEN_PREFIX = "skp_"  # noqa: S105 - a prefix, not a secret
MAX_CACHED = 10_000
"""Credentials cached at most (the cache starts afresh beyond)."""


class InvalidCredentials(Exception):
    """Wrong user name or password (deliberately not saying which)."""


class Unauthenticated(Exception):
    """The credential is missing, malformed, expired or revoked."""


class LoginResult(msgspec.Struct, frozen=True):
    token: str
    expires_at: float
    session_id: str
    principal: Principal


@dataclass(eq=False)
class _Cached:
    """A credential's principal, until the credential expires (unix time; None: never)."""

    principal: Principal
    expires_at: float | None
    used: bool = False
    """Used since the last :meth:`AuthService.revalidate` (an API token's last use)."""


class ApiToken(msgspec.Struct, frozen=True):
    id: str
    name: str
    scopes: list[str]
    created_at: float
    expires_at: float | None
    last_used_at: float | None
    revoked: bool


class AuthService:
    def __init__(
        self,
        database: Database,
        settings: AuthSettings,
        signing_key: bytes,
        users_book: UserBook,
        roles_book: RoleBook,
    ) -> None:
        self.database = database
        self.settings = settings
        self._key = signing_key
        self.users = users_book
        self.roles = roles_book
        self.limiter = LoginLimiter(
            database,
            "login",
            settings.login_attempts_per_user,
            settings.login_attempts_per_client,
            settings.login_window_seconds,
        )
        self.password_limiter = LoginLimiter(
            database,
            "password",
            settings.login_attempts_per_user,
            settings.login_attempts_per_client,
            settings.login_window_seconds,
        )
        self.on_change: list[Callable[[], None]] = []
        """Called after every logout, revocation or account change made here."""
        self._cache: dict[str, _Cached] = {}
        self._lookups: dict[str, asyncio.Future[Principal]] = {}

    # -- logging in and out -------------------------------------------------

    async def login(self, username: str, password: str, client: str) -> LoginResult:
        """Check a password and open a session; rate limited per user and client."""
        if backoff := await self.limiter.check(username, client):
            await asyncio.sleep(backoff)
        found = await self.users.password_hash(username)
        user, stored = found if found else (None, None)
        usable = stored if user and not user.disabled else None
        if not await asyncio.to_thread(verify_password, usable, password):
            await self.limiter.failed(username, client)
            raise InvalidCredentials
        assert user is not None
        await self.limiter.succeeded(username, client)
        return await self.open_session(user, client, "session")

    async def change_password(
        self, principal: Principal, current: str, new: str, client: str, *, revoke_tokens: bool
    ) -> None:
        """Change one's own password; every session of the user ends (and, when asked,
        every API token). Each attempt counts against the limiter, right or wrong."""
        if backoff := await self.password_limiter.check(principal.username, client):
            await asyncio.sleep(backoff)
        await self.password_limiter.failed(principal.username, client)
        found = await self.users.password_hash(principal.username)
        if not found or not await asyncio.to_thread(verify_password, found[1], current):
            raise InvalidCredentials
        await self.users.update(principal.username, password=new)
        await self.revoke_user(principal.user_id, revoke_tokens=revoke_tokens)

    async def open_session(self, user: User, client: str, method: AuthMethod) -> LoginResult:
        now = time.time()
        expires = now + self.settings.session_hours * 3600
        session_id = uuid.uuid4().hex
        async with self.database.begin() as conn:
            await conn.execute(
                sessions.insert().values(
                    id=session_id,
                    user_id=user.id,
                    created_at=now,
                    expires_at=expires,
                    client=client[:128],
                )
            )
        claims = {
            "iss": self.settings.issuer,
            "sub": user.username,
            "sid": session_id,
            "iat": int(now),
            "exp": int(expires),
            "amr": method,
        }
        token = jwt.encode(claims, self._key, algorithm="HS256")
        principal = await self._principal(user, method, session_id=session_id)
        return LoginResult(token, expires, session_id, principal)

    async def open_local_session(self, username: str | None = None) -> LoginResult:
        """A session for the CLI on this machine (whoever can read the data dir): in-process,
        or through the server's local socket."""
        candidates = [u for u in await self.users.all() if not u.disabled]
        user = next(
            (u for u in candidates if (u.username == username if username else u.role == "admin")),
            None,
        )
        if user is None:
            raise Unauthenticated(f"no usable user {username or 'with role admin'}")
        return await self.open_session(user, "local", "local")

    async def logout(self, session_id: str) -> None:
        async with self.database.begin() as conn:
            await conn.execute(
                sessions.update().where(sessions.c.id == session_id).values(revoked_at=time.time())
            )
        self.invalidate()

    async def revoke_user(
        self, user_id: int, *, end_sessions: bool = True, revoke_tokens: bool = False
    ) -> None:
        """End every session of the user and/or revoke all their API tokens."""
        tables = [sessions] if end_sessions else []
        if revoke_tokens:
            tables.append(api_tokens)
        now = time.time()
        async with self.database.begin() as conn:
            for table in tables:
                await conn.execute(
                    table.update()
                    .where(table.c.user_id == user_id, table.c.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
        self.invalidate()

    def csrf_token(self, session_id: str) -> str:
        """The CSRF token bound to a session (sent back in ``X-CSRF-Token``)."""
        return hmac.new(self._key, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()

    # -- API tokens ----------------------------------------------------------

    async def create_token(
        self, owner: Principal, name: str, scopes: Iterable[str], expires_at: float | None
    ) -> tuple[ApiToken, str]:
        """Create a token with ``scopes`` (a subset of the owner's); return it and its secret.

        A token made with a token carries at most that token's scopes, expires no later
        (by default, when it does) and is revoked with it.
        """
        wanted = sorted(set(scopes))
        if missing := owner.missing(wanted):
            raise PermissionError(f"you cannot grant scope(s) you lack: {', '.join(missing)}")
        if owner.token_id and (limit := await self._token_expiry(owner.token_id)) is not None:
            if expires_at is None:
                expires_at = limit
            elif expires_at > limit:
                raise PermissionError(
                    "a token cannot create a token that outlives it: this one expires at "
                    f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(limit))}"
                )
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        now = time.time()
        async with self.database.begin() as conn:
            await conn.execute(
                api_tokens.insert().values(
                    id=token_id,
                    user_id=owner.user_id,
                    name=name,
                    secret_hash=_digest(secret),
                    scopes=wanted,
                    created_at=now,
                    expires_at=expires_at,
                    parent_id=owner.token_id,
                )
            )
        token = ApiToken(token_id, name, wanted, now, expires_at, None, False)
        return token, f"{TOKEN_PREFIX}{token_id}_{secret}"

    async def _token_expiry(self, token_id: str) -> float | None:
        async with self.database.connect() as conn:
            query = sa.select(api_tokens.c.expires_at).where(api_tokens.c.id == token_id)
            return (await conn.execute(query)).scalar_one_or_none()

    async def list_tokens(self, user_id: int) -> list[ApiToken]:
        async with self.database.connect() as conn:
            rows = await conn.execute(
                sa.select(api_tokens)
                .where(api_tokens.c.user_id == user_id)
                .order_by(api_tokens.c.created_at)
            )
            return [
                ApiToken(
                    r.id,
                    r.name,
                    list(r.scopes),
                    r.created_at,
                    r.expires_at,
                    r.last_used_at,
                    r.revoked_at is not None,
                )
                for r in rows
            ]

    async def revoke_token(self, user_id: int, token_id: str) -> bool:
        """Revoke a token of the user, and every token made with it (and with those)."""
        now = time.time()
        async with self.database.begin() as conn:
            result = await conn.execute(
                api_tokens.update()
                .where(
                    api_tokens.c.id == token_id,
                    api_tokens.c.user_id == user_id,
                    api_tokens.c.revoked_at.is_(None),
                )
                .values(revoked_at=now)
            )
            made_with = [token_id] if result.rowcount else []
            while made_with:
                live = api_tokens.c.revoked_at.is_(None)
                query = sa.select(api_tokens.c.id).where(
                    api_tokens.c.parent_id.in_(made_with), live
                )
                made_with = list((await conn.execute(query)).scalars())
                if made_with:
                    await conn.execute(
                        api_tokens.update()
                        .where(api_tokens.c.id.in_(made_with))
                        .values(revoked_at=now)
                    )
        self.invalidate()
        return result.rowcount > 0

    # -- authenticating requests --------------------------------------------

    async def authenticate(self, credential: str) -> Principal:
        """Resolve a Bearer credential (session JWT or API token) to a principal."""
        cached = self._cache.get(credential)
        if cached and (cached.expires_at is None or cached.expires_at > time.time()):
            cached.used = True
            return cached.principal
        # Concurrent requests with the same credential share one lookup.
        pending = self._lookups.get(credential)
        if pending is None:
            pending = asyncio.ensure_future(self._lookup(credential))
            self._lookups[credential] = pending
            pending.add_done_callback(lambda _: self._lookups.pop(credential, None))
        return await asyncio.shield(pending)

    async def _lookup(self, credential: str) -> Principal:
        if credential.startswith(TOKEN_PREFIX):
            principal, expires_at = await self._from_api_token(credential)
        else:
            principal, expires_at = await self._from_session(credential)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[credential] = _Cached(principal, expires_at)
        return principal

    async def revalidate(self) -> None:
        """Read every cached credential again (one query per kind): forget those that no
        longer work, take in changed scopes, and record the API tokens used meanwhile."""
        entries = list(self._cache.items())
        if not entries:
            return
        current = await self.recheck(entry.principal for _, entry in entries)
        used: list[str] = []
        for credential, entry in entries:
            if self._cache.get(credential) is not entry:  # cleared or replaced meanwhile
                continue
            principal = current.get(credential_key(entry.principal))
            if principal is None:
                del self._cache[credential]
                continue
            if entry.used and principal.token_id:
                used.append(principal.token_id)
            entry.principal, entry.used = principal, False
        if used:
            await self._mark_used(used)

    async def _mark_used(self, token_ids: list[str]) -> None:
        now = time.time()
        async with self.database.begin() as conn:
            for chunk in _chunks(token_ids):
                await conn.execute(
                    api_tokens.update().where(api_tokens.c.id.in_(chunk)).values(last_used_at=now)
                )

    def invalidate(self) -> None:
        """Forget cached principals (after a logout, revocation or account change here)."""
        self.forget_cached()
        for listener in self.on_change:
            listener()

    def forget_cached(self) -> None:
        """Forget cached principals only (another server of the cluster made a change)."""
        self._cache.clear()

    async def _from_session(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                issuer=self.settings.issuer,
                options={"require": ["exp", "iat", "iss", "sub", "sid"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("session expired; log in again") from None
        except jwt.PyJWTError:
            raise Unauthenticated("invalid token") from None
        async with self.database.connect() as conn:
            row = (await conn.execute(_SESSIONS.where(sessions.c.id == claims["sid"]))).first()
        if problem := _session_problem(row):
            raise Unauthenticated(problem)
        scopes = await self.roles.scopes(row.role)
        principal = _session_principal(row, scopes, claims.get("amr", "session"))
        return principal, min(float(claims["exp"]), row.expires_at)

    async def _from_api_token(self, credential: str) -> tuple[Principal, float | None]:
        token_id, _, secret = credential.removeprefix(TOKEN_PREFIX).partition("_")
        async with self.database.connect() as conn:
            row = (await conn.execute(_TOKENS.where(api_tokens.c.id == token_id))).first()
        if row is None or not hmac.compare_digest(row.secret_hash, _digest(secret)):
            raise Unauthenticated("invalid token")
        if problem := _token_problem(row):
            raise Unauthenticated(problem)
        await self._mark_used([token_id])
        return _token_principal(row, await self.roles.scopes(row.role)), row.expires_at

    async def recheck(self, principals: Iterable[Principal]) -> dict[str, Principal | None]:
        """What each principal is now, by :func:`credential_key`: ``None`` when its session
        or token no longer works. One query per kind of credential, however many."""
        wanted = list(principals)
        keys = sorted({credential_key(p) for p in wanted})
        found: dict[str, Any] = {}
        async with self.database.connect() as conn:
            for kind, query, column in (
                ("session", _SESSIONS, sessions.c.id),
                ("token", _TOKENS, api_tokens.c.id),
            ):
                ids = [k.removeprefix(f"{kind}:") for k in keys if k.startswith(f"{kind}:")]
                for chunk in _chunks(ids):
                    rows = await conn.execute(query.where(column.in_(chunk)))
                    found.update((f"{kind}:{getattr(r, f'{kind}_id')}", r) for r in rows)
        scopes = {role: await self.roles.scopes(role) for role in {r.role for r in found.values()}}
        current: dict[str, Principal | None] = {}
        for principal in wanted:
            key = credential_key(principal)
            row = found.get(key)
            current[key] = None if row is None else _renewed(principal, row, scopes[row.role])
        return current

    async def _principal(
        self,
        user: User,
        method: AuthMethod,
        *,
        session_id: str | None = None,
        token_id: str | None = None,
    ) -> Principal:
        scopes = await self.roles.scopes(user.role)
        return Principal(
            user.id,
            user.username,
            user.role,
            scopes,
            method,
            session_id=session_id,
            token_id=token_id,
        )


_SESSIONS = sa.select(
    sessions.c.id.label("session_id"), sessions.c.revoked_at, sessions.c.expires_at, users
).join(users, users.c.id == sessions.c.user_id)
_TOKENS = sa.select(
    api_tokens.c.id.label("token_id"),
    api_tokens.c.secret_hash,
    api_tokens.c.scopes.label("token_scopes"),
    api_tokens.c.expires_at,
    api_tokens.c.revoked_at,
    users,
).join(users, users.c.id == api_tokens.c.user_id)


def credential_key(principal: Principal) -> str:
    """Names the session or API token behind a principal."""
    if principal.token_id:
        return f"token:{principal.token_id}"
    return f"session:{principal.session_id}"


def _renewed(principal: Principal, row: sa.Row[Any], scopes: frozenset[str]) -> Principal | None:
    """``principal`` as its session or token row says it is now (None: no longer valid)."""
    if principal.token_id:
        return None if _token_problem(row) else _token_principal(row, scopes)
    return None if _session_problem(row) else _session_principal(row, scopes, principal.method)


def _session_problem(row: sa.Row[Any] | None) -> str | None:
    if row is None or row.revoked_at is not None or row.expires_at < time.time():
        return "session ended; log in again"
    return "account disabled" if row.disabled else None


def _token_problem(row: sa.Row[Any]) -> str | None:
    if row.revoked_at is not None:
        return "API token revoked"
    if row.expires_at is not None and row.expires_at < time.time():
        return "API token expired"
    return "account disabled" if row.disabled else None


def _session_principal(row: sa.Row[Any], scopes: frozenset[str], method: AuthMethod) -> Principal:
    return Principal(row.id, row.username, row.role, scopes, method, session_id=row.session_id)


def _token_principal(row: sa.Row[Any], owner_scopes: frozenset[str]) -> Principal:
    """A token holds its own scopes as far as its owner still holds them."""
    owner = Principal(row.id, row.username, row.role, owner_scopes, "token")
    granted = frozenset(s for s in row.token_scopes if owner.has_scope(s))
    return msgspec.structs.replace(owner, scopes=granted, token_id=row.token_id)


def _chunks(ids: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
