"""``/api/auth``: log in and out, who am I, personal API tokens, own password."""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import (
    ClientException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
)
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from skyport.auth.middleware import CSRF_COOKIE, SESSION_COOKIE, client_address
from skyport.auth.principal import Principal
from skyport.auth.ratelimit import TooManyAttempts
from skyport.auth.service import ApiToken, AuthService, InvalidCredentials
from skyport.auth.users import AccountError
from skyport.openapi import ERRORS, LIMITED

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Scope = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Secret


class UserInfo(msgspec.Struct, frozen=True):
    username: str
    role: str
    scopes: list[str]
    method: str = "session"


class LoginResponse(msgspec.Struct, frozen=True):
    token: str
    expires_at: float
    user: UserInfo
    csrf_token: str


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    scopes: Annotated[list[Scope], msgspec.Meta(min_length=1)]
    expires_in_days: Annotated[float, msgspec.Meta(gt=0, le=3650)] | None = None


class CreatedToken(msgspec.Struct, frozen=True):
    token: str
    """The secret: shown once, never again."""
    info: ApiToken


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Secret
    new_password: Secret
    revoke_tokens: bool = False
    """Revoke your API tokens too (by default they keep working after a password change)."""


def user_info(principal: Principal) -> UserInfo:
    return UserInfo(principal.username, principal.role, sorted(principal.scopes), principal.method)


def _auth(request: Request[Any, Any, Any]) -> AuthService:
    return request.app.state.auth


@post(
    "/login",
    status_code=200,
    exclude_from_auth=True,
    summary="Log in; returns a token and sets the session cookie",
    responses={
        401: ERRORS[401],
        429: LIMITED,
    },
)
async def login(
    request: Request[Any, Any, Any], data: JSONBody[LoginRequest]
) -> Response[LoginResponse]:
    auth, audit = _auth(request), request.app.state.audit
    client = client_address(request)
    try:
        result = await auth.login(data.username, data.password, client)
    except TooManyAttempts as exc:
        # One row per client and window, whichever user names it tries.
        await audit.record_repeated(
            data.username, "auth.login", "", "rate limited", client, key=("login", client)
        )
        raise TooManyRequestsException(
            str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from None
    except InvalidCredentials:
        await audit.record_repeated(data.username, "auth.login", "", "failed", client)
        raise NotAuthorizedException("invalid username or password") from None
    await audit.record(data.username, "auth.login", "", "ok", client)
    csrf = auth.csrf_token(result.session_id)
    secure = request.app.state.secure_cookies
    max_age = int(result.expires_at - time.time())
    cookies = [
        Cookie(
            key=SESSION_COOKIE,
            value=result.token,
            httponly=True,
            samesite="strict",
            secure=secure,
            max_age=max_age,
            path="/",
        ),
        Cookie(
            key=CSRF_COOKIE,
            value=csrf,
            httponly=False,
            samesite="strict",
            secure=secure,
            max_age=max_age,
            path="/",
        ),
    ]
    body = LoginResponse(result.token, result.expires_at, user_info(result.principal), csrf)
    return Response(body, cookies=cookies)


@post(
    "/logout",
    status_code=HTTP_204_NO_CONTENT,
    opt={"scope": "auth:self"},
    responses={204: ResponseSpec(None, description="Logged out; the session cookie is cleared")},
)
async def logout(request: Request[Principal, Any, Any]) -> Response[None]:
    """End the current session server-side; the token stops working at once."""
    if request.user.session_id:
        await _auth(request).logout(request.user.session_id)
    return Response(
        None,
        status_code=HTTP_204_NO_CONTENT,
        cookies=[
            Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/"),
            Cookie(key=CSRF_COOKIE, value="", max_age=0, path="/"),
        ],
    )


@get("/me", opt={"scope": "auth:self"})
async def me(request: Request[Principal, Any, Any]) -> UserInfo:
    return user_info(request.user)


@post(
    "/password",
    status_code=HTTP_204_NO_CONTENT,
    opt={"scope": "auth:self"},
    responses={429: LIMITED},
)
async def change_password(
    request: Request[Principal, Any, Any], data: JSONBody[PasswordChange]
) -> None:
    """Change your own password. Every session of yours ends, this one included; your
    API tokens keep working unless ``revoke_tokens`` is true."""
    try:
        await _auth(request).change_password(
            request.user,
            data.current_password,
            data.new_password,
            client_address(request),
            revoke_tokens=data.revoke_tokens,
        )
    except TooManyAttempts as exc:
        raise TooManyRequestsException(
            str(exc), headers={"Retry-After": str(exc.retry_after)}
        ) from None
    except InvalidCredentials:
        raise PermissionDeniedException("current password is wrong") from None
    except AccountError as exc:
        raise ClientException(str(exc), extra={"field": "new_password"}) from None


@get("/tokens", opt={"scope": "auth:self"})
async def list_tokens(request: Request[Principal, Any, Any]) -> list[ApiToken]:
    return await _auth(request).list_tokens(request.user.user_id)


@post("/tokens", status_code=HTTP_201_CREATED, opt={"scope": "auth:tokens"})
async def create_token(
    request: Request[Principal, Any, Any], data: JSONBody[TokenRequest]
) -> CreatedToken:
    """Create a long-lived API token limited to ``scopes`` (a subset of yours)."""
    expires = time.time() + data.expires_in_days * 86400 if data.expires_in_days else None
    try:
        info, secret = await _auth(request).create_token(
            request.user, data.name, data.scopes, expires
        )
    except PermissionError as exc:
        raise PermissionDeniedException(str(exc)) from None
    return CreatedToken(secret, info)


@delete("/tokens/{token_id:str}", status_code=HTTP_204_NO_CONTENT, opt={"scope": "auth:tokens"})
async def revoke_token(request: Request[Principal, Any, Any], token_id: FromPath[str]) -> None:
    if not await _auth(request).revoke_token(request.user.user_id, token_id):
        raise NotFoundException(f"no active API token {token_id!r}")


ROUTES: list[Any] = [login, logout, me, change_password, list_tokens, create_token, revoke_token]
