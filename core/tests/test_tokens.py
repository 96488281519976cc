"""API tokens: they survive a password change unless asked otherwise; admins list and
revoke anyone's; a token never mints one that outlives it or holds more scopes."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from skyport.testing import CliResult, cli_ok, login

from .conftest import ADMIN_PASSWORD, LiveServer, bearer

# Tokens are rows: every test runs on SQLite and on PostgreSQL.
pytestmark = pytest.mark.every_database

Run = Callable[..., CliResult]
DAY = 86400


def _token(client: TestClient[Litestar], auth: str, **body: object) -> dict[str, object]:
    body = {"name": "t", "scopes": ["auth:self", "auth:tokens", "status:read"], **body}
    created = client.post("/api/auth/tokens", json=body, headers=bearer(auth))
    assert created.status_code == 201, created.text
    return dict(created.json())


def _works(client: TestClient[Litestar], token: object) -> bool:
    return client.get("/api/auth/me", headers=bearer(str(token))).status_code == 200


@pytest.mark.parametrize("revoke_tokens", [False, True])
def test_a_password_change_keeps_tokens_unless_asked(
    client: TestClient[Litestar], make_user: Callable[[str, str], str], revoke_tokens: bool
) -> None:
    session = make_user("kim", "operator")
    token = _token(client, session)["token"]
    changed = client.post(
        "/api/auth/password",
        json={
            "current_password": "kim-password",
            "new_password": "kim-new-password",
            "revoke_tokens": revoke_tokens,
        },
        headers=bearer(session),
    )
    assert changed.status_code == 204, changed.text
    assert not _works(client, session)
    assert _works(client, token) is not revoke_tokens


def test_an_admin_password_reset_can_revoke_the_tokens(
    admin: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    token = _token(admin, make_user("kim", "operator"))["token"]
    reset = admin.patch("/api/users/kim", json={"password": "reset-pw-1", "revoke_tokens": True})
    assert reset.status_code == 200, reset.text
    assert not _works(admin, token)


def test_admins_list_and_revoke_any_users_tokens(
    admin: TestClient[Litestar], make_user: Callable[[str, str], str]
) -> None:
    kim = make_user("kim", "operator")
    created = _token(admin, kim, name="deploy")
    info = created["info"]
    assert isinstance(info, dict)
    listed = admin.get("/api/users/kim/tokens").json()
    assert [(t["id"], t["name"]) for t in listed] == [(info["id"], "deploy")]
    assert "secret_hash" not in listed[0] and "token" not in listed[0]
    assert admin.get("/api/users/kim/tokens", headers=bearer(kim)).status_code == 403
    assert admin.delete(f"/api/users/kim/tokens/{info['id']}").status_code == 204
    assert not _works(admin, created["token"])
    again = admin.delete(f"/api/users/kim/tokens/{info['id']}")
    assert again.status_code == 404 and "no active API token" in again.json()["detail"]
    assert admin.get("/api/users/nobody/tokens").status_code == 404


def test_a_token_cannot_mint_one_that_outlives_it_or_holds_more(
    client: TestClient[Litestar],
) -> None:
    session = login(client, "admin", ADMIN_PASSWORD)
    parent = _token(client, session, expires_in_days=1)
    parent_info = parent["info"]
    assert isinstance(parent_info, dict)
    minted = _token(client, str(parent["token"]), scopes=["status:read"])
    child = minted["info"]
    assert isinstance(child, dict)
    assert child["expires_at"] == pytest.approx(parent_info["expires_at"])
    later = client.post(
        "/api/auth/tokens",
        json={"name": "later", "scopes": ["status:read"], "expires_in_days": 30},
        headers=bearer(str(parent["token"])),
    )
    assert later.status_code == 403 and "outlives" in later.json()["detail"]
    wider = client.post(
        "/api/auth/tokens",
        json={"name": "wider", "scopes": ["users:admin"]},
        headers=bearer(str(parent["token"])),
    )
    assert wider.status_code == 403 and "users:admin" in wider.json()["detail"]
    assert time.time() + DAY >= child["expires_at"]


def test_revoking_a_token_revokes_those_made_with_it(client: TestClient[Litestar]) -> None:
    session = login(client, "admin", ADMIN_PASSWORD)
    parent = _token(client, session)
    child = _token(client, str(parent["token"]))
    grandchild = _token(client, str(child["token"]), scopes=["status:read"])
    sibling = _token(client, session)
    parent_info = parent["info"]
    assert isinstance(parent_info, dict)
    revoked = client.delete(f"/api/auth/tokens/{parent_info['id']}", headers=bearer(session))
    assert revoked.status_code == 204
    assert not _works(client, child["token"])
    assert client.get("/api/status", headers=bearer(str(grandchild["token"]))).status_code == 401
    assert _works(client, sibling["token"])


def test_cli_lists_and_revokes_another_users_tokens(run_cli: Run, live_server: LiveServer) -> None:
    cli_ok(
        run_cli("login", live_server.url, "-u", "admin", "--password-stdin", stdin=ADMIN_PASSWORD)
    )
    cli_ok(
        run_cli(
            "users", "add", "kim", "--role", "operator", "--password-stdin", stdin="kim-pw-12\n"
        )
    )
    kim = httpx.post(
        f"{live_server.url}/api/auth/login", json={"username": "kim", "password": "kim-pw-12"}
    ).json()["token"]
    made = httpx.post(
        f"{live_server.url}/api/auth/tokens",
        json={"name": "ci", "scopes": ["auth:self"]},
        headers=bearer(kim),
    ).json()
    listed = cli_ok(run_cli("tokens", "list", "--user", "kim", "--json")).json()
    assert [t["id"] for t in listed] == [made["info"]["id"]]
    assert "ci" in cli_ok(run_cli("tokens", "list", "--user", "kim")).out
    cli_ok(run_cli("tokens", "revoke", made["info"]["id"], "--user", "kim"))
    assert (
        httpx.get(f"{live_server.url}/api/auth/me", headers=bearer(made["token"])).status_code
        == 401
    )


def test_cli_password_changes_offer_revoke_tokens(run_cli: Run) -> None:
    made = cli_ok(run_cli("tokens", "create", "ci", "-s", "status:read", "--json")).json()
    cli_ok(run_cli("users", "passwd", "admin", "--password-stdin", stdin="admin-password-2\n"))
    assert cli_ok(run_cli("tokens", "list", "--json")).json()[0]["revoked"] is False
    changed = cli_ok(
        run_cli(
            "passwd",
            "--password-stdin",
            "--revoke-tokens",
            stdin="admin-password-2\nadmin-password-3\n",
        )
    )
    assert "API tokens ended" in changed.out
    listed = cli_ok(run_cli("tokens", "list", "--json")).json()
    assert [t["revoked"] for t in listed] == [True] and made["info"]["id"] == listed[0]["id"]
