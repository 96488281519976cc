"""Administration: ``/api/users``, ``/api/roles``, ``/api/permissions``, ``/api/grants``,
``/api/audit``."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post, put
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT, HTTP_409_CONFLICT

from skyport.audit import AuditPage
from skyport.auth.grants import Grant
from skyport.auth.principal import Principal
from skyport.auth.roles import Role, UnknownScopes
from skyport.auth.service import ApiToken, AuthService
from skyport.auth.users import AccountError, User, UserExists

ADMIN = {"scope": "users:admin"}
Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
RoleName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
ROW_MAX = 2**63 - 1
"""The largest integer a database column (SQLite INTEGER, PostgreSQL BIGINT) holds."""


class NewUser(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Password
    role: RoleName = "viewer"


class UserChange(msgspec.Struct, forbid_unknown_fields=True):
    role: RoleName | None = None
    password: Password | None = None
    disabled: bool | None = None
    revoke_tokens: bool = False
    """Revoke the user's API tokens too (a password change alone leaves them working)."""


class RoleBody(msgspec.Struct, forbid_unknown_fields=True):
    scopes: list[Annotated[str, msgspec.Meta(min_length=1, max_length=128)]]
    description: Annotated[str, msgspec.Meta(max_length=255)] = ""


class NewRole(RoleBody, forbid_unknown_fields=True):
    name: RoleName = ""


class NewGrant(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    resource: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]


def _auth(request: Request[Any, Any, Any]) -> AuthService:
    return request.app.state.auth


async def _existing_role(request: Request[Any, Any, Any], role: str) -> None:
    if not await _auth(request).roles.exists(role):
        raise ClientException(f"role {role!r} does not exist", extra={"field": "role"})


async def _user_or_404(request: Request[Any, Any, Any], username: str) -> User:
    user = await _auth(request).users.get(username)
    if user is None:
        raise NotFoundException(f"no user {username!r}")
    return user


class UsersController(Controller):
    path = "/api/users"
    opt = ADMIN
    tags = ["users"]

    @get("/")
    async def list_users(self, request: Request[Any, Any, Any]) -> list[User]:
        return await _auth(request).users.all()

    @post("/", status_code=HTTP_201_CREATED)
    async def create_user(self, request: Request[Any, Any, Any], data: JSONBody[NewUser]) -> User:
        await _existing_role(request, data.role)
        try:
            return await _auth(request).users.create(data.username, data.password, data.role)
        except UserExists as exc:
            raise ClientException(str(exc), status_code=HTTP_409_CONFLICT) from None
        except AccountError as exc:
            raise ClientException(str(exc)) from None

    @get("/{username:str}")
    async def get_user(self, request: Request[Any, Any, Any], username: FromPath[str]) -> User:
        return await _user_or_404(request, username)

    @patch("/{username:str}")
    async def update_user(
        self,
        request: Request[Principal, Any, Any],
        username: FromPath[str],
        data: JSONBody[UserChange],
    ) -> User:
        """Change a user's role, password or disabled flag; their sessions end (their API
        tokens too with ``revoke_tokens``)."""
        auth = _auth(request)
        current = await _user_or_404(request, username)
        if data.role is not None:
            await _existing_role(request, data.role)
        demoting = (data.role not in (None, "admin") or data.disabled) and current.role == "admin"
        if demoting and await auth.users.count_admins() <= 1:
            raise ClientException("refusing to remove the last active admin", status_code=409)
        try:
            user = await auth.users.update(
                username, role=data.role, password=data.password, disabled=data.disabled
            )
        except AccountError as exc:
            raise ClientException(str(exc)) from None
        assert user is not None
        changed = data.password is not None or bool(data.disabled) or data.role is not None
        if changed or data.revoke_tokens:
            await auth.revoke_user(user.id, end_sessions=changed, revoke_tokens=data.revoke_tokens)
        return user

    @delete("/{username:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete_user(
        self, request: Request[Principal, Any, Any], username: FromPath[str]
    ) -> None:
        auth = _auth(request)
        user = await _user_or_404(request, username)
        if user.role == "admin" and await auth.users.count_admins() <= 1:
            raise ClientException("refusing to remove the last active admin", status_code=409)
        await auth.revoke_user(user.id)
        await auth.users.delete(username)

    @get("/{username:str}/tokens")
    async def list_user_tokens(
        self, request: Request[Any, Any, Any], username: FromPath[str]
    ) -> list[ApiToken]:
        """A user's API tokens (never their secrets)."""
        user = await _user_or_404(request, username)
        return await _auth(request).list_tokens(user.id)

    @delete("/{username:str}/tokens/{token_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def revoke_user_token(
        self, request: Request[Any, Any, Any], username: FromPath[str], token_id: FromPath[str]
    ) -> None:
        """Revoke one of a user's API tokens at once."""
        user = await _user_or_404(request, username)
        if not await _auth(request).revoke_token(user.id, token_id):
            raise NotFoundException(f"user {username!r} has no active API token {token_id!r}")


class RolesController(Controller):
    path = "/api/roles"
    opt = ADMIN
    tags = ["users"]

    @get("/")
    async def list_roles(self, request: Request[Any, Any, Any]) -> list[Role]:
        return await _auth(request).roles.all()

    @post("/", status_code=HTTP_201_CREATED)
    async def create_role(self, request: Request[Any, Any, Any], data: JSONBody[NewRole]) -> Role:
        if not data.name:
            raise ClientException("name: required", extra={"field": "name"})
        if await _auth(request).roles.exists(data.name):
            raise ClientException(f"role {data.name!r} already exists", status_code=409)
        return await self._save(request, data.name, data)

    @put("/{name:str}")
    async def replace_role(
        self, request: Request[Any, Any, Any], name: FromPath[str], data: JSONBody[RoleBody]
    ) -> Role:
        return await self._save(request, name, data)

    @delete("/{name:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete_role(self, request: Request[Any, Any, Any], name: FromPath[str]) -> None:
        auth = _auth(request)
        if auth.roles.builtin_scopes(name) is not None:
            raise ClientException(f"role {name!r} is built in and cannot be removed")
        if any(u.role == name for u in await auth.users.all()):
            raise ClientException(f"role {name!r} is still assigned to users", status_code=409)
        if not await auth.roles.delete(name):
            raise NotFoundException(f"no role {name!r}")

    async def _save(self, request: Request[Any, Any, Any], name: str, data: RoleBody) -> Role:
        auth = _auth(request)
        if auth.roles.builtin_scopes(name) is not None:
            raise ClientException(f"role {name!r} is built in and cannot be changed")
        try:
            role = await auth.roles.save(name, data.description, data.scopes)
        except UnknownScopes as exc:
            raise ClientException(str(exc), extra={"field": "scopes"}) from None
        auth.invalidate()
        return role


class GrantsController(Controller):
    """Per-resource grants: limit a user to named resources of a kind."""

    path = "/api/grants"
    opt = ADMIN
    tags = ["users"]

    @get("/")
    async def list_grants(
        self, request: Request[Any, Any, Any], username: FromQuery[str | None] = None
    ) -> list[Grant]:
        return await request.app.state.services.grants.all(username)

    @post("/", status_code=HTTP_201_CREATED)
    async def add_grant(self, request: Request[Any, Any, Any], data: JSONBody[NewGrant]) -> Grant:
        user = await _auth(request).users.get(data.username)
        if user is None:
            raise ClientException(f"no user {data.username!r}", extra={"field": "username"})
        return await request.app.state.services.grants.add(
            user.id, user.username, data.kind, data.resource
        )

    @delete("/{grant_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def remove_grant(
        self,
        request: Request[Any, Any, Any],
        grant_id: Annotated[int, PathParameter(ge=1, le=ROW_MAX)],
    ) -> None:
        if not await request.app.state.services.grants.remove(grant_id):
            raise NotFoundException(f"no grant {grant_id}")


@get("/api/audit", opt={"scope": "audit:read"}, tags=["users"])
async def audit_log(
    request: Request[Any, Any, Any],
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=ROW_MAX)] = 0,
    username: FromQuery[str | None] = None,
    action: FromQuery[str | None] = None,
) -> AuditPage:
    """Every mutating request, newest first."""
    return await request.app.state.audit.page(
        limit=limit, offset=offset, username=username, action=action
    )


class PermissionInfo(msgspec.Struct, frozen=True):
    """A scope roles can hold: who defines it, what it allows, which built-in roles get it."""

    name: str
    description: str
    level: str
    plugin: str


@get("/api/permissions", opt=ADMIN, tags=["users"])
async def permissions(request: Request[Any, Any, Any]) -> list[PermissionInfo]:
    """Every scope the core and the loaded plugins define (what a role may be given)."""
    registry = request.app.state.services.registry
    return [
        PermissionInfo(p.name, p.description, p.level, registry.owner(p))
        for p in sorted(registry.permissions.values(), key=lambda p: p.name)
    ]


ROUTES: list[Any] = [UsersController, RolesController, GrantsController, permissions, audit_log]
