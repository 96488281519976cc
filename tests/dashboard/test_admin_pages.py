"""The admin pages in a real browser, each change checked through the API or by logging in:
users (add, role, disable, new password, remove), resource grants, API tokens, the audit log."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from skyport.testing import bearer

from .conftest import VIEWER, log_in


def can_log_in(open_page: Callable[..., Page], username: str, password: str) -> bool:
    """Whether ``username`` gets in with ``password`` on a fresh page (else the page says why)."""
    page = open_page()
    page.goto("/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    out = page.get_by_role("button", name="Log out").or_(page.get_by_role("alert"))
    expect(out).to_be_visible()
    return page.get_by_role("button", name="Log out").is_visible()


def test_an_admin_adds_a_user_changes_their_role_locks_them_out_and_removes_them(
    admin_page: Page,
    admin_api: httpx.Client,
    open_page: Callable[..., Page],
    unique: Callable[[str], str],
) -> None:
    name, page = unique("user"), admin_page
    page.goto("/admin/users")
    page.get_by_role("button", name="Add user").click()
    dialog = page.get_by_role("dialog", name="Add a user")
    dialog.get_by_label("User name").fill(name)
    dialog.get_by_label("Password", exact=True).fill("first-password-1")
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog).to_be_hidden()
    row = page.get_by_role("table", name="Users").get_by_role("row").filter(has_text=name)
    expect(row.get_by_label(f"Role of {name}")).to_have_value("viewer")

    row.get_by_label(f"Role of {name}").select_option("operator")
    expect(row.get_by_label(f"Role of {name}")).to_have_value("operator")
    assert admin_api.get(f"/api/users/{name}").json()["role"] == "operator"
    assert can_log_in(open_page, name, "first-password-1")

    row.get_by_role("button", name=f"Disable {name}").click()
    expect(row.get_by_role("button", name=f"Enable {name}")).to_be_visible()
    assert not can_log_in(open_page, name, "first-password-1")
    row.get_by_role("button", name=f"Enable {name}").click()
    expect(row.get_by_role("button", name=f"Disable {name}")).to_be_visible()

    row.get_by_role("button", name=f"Reset password of {name}").click()
    reset = page.get_by_role("dialog", name=f"New password for {name}")
    reset.get_by_label("New password").fill("second-password-2")
    reset.get_by_role("button", name="Set password").click()
    expect(reset).to_be_hidden()
    assert can_log_in(open_page, name, "second-password-2")
    assert not can_log_in(open_page, name, "first-password-1")

    row.get_by_role("button", name=f"Remove {name}").click()
    page.get_by_role("dialog", name=f"Remove {name}?").get_by_role("button", name="Remove").click()
    expect(row).to_have_count(0)
    assert admin_api.get(f"/api/users/{name}").status_code == 404


def test_a_grant_is_given_and_revoked_from_the_users_page(
    admin_page: Page, admin_api: httpx.Client, unique: Callable[[str], str]
) -> None:
    name, server = unique("granted"), unique("srv")
    body = {"username": name, "password": "granted-password-1", "role": "viewer"}
    assert admin_api.post("/api/users", json=body).status_code == 201
    page = admin_page
    page.goto("/admin/users")
    grants = page.locator("form").filter(has=page.get_by_role("button", name="Grant"))
    grants.get_by_label("User").select_option(name)
    grants.get_by_label("Kind").fill("vps")
    grants.get_by_label("Resource").fill(server)
    grants.get_by_role("button", name="Grant").click()
    revoke = page.get_by_role("button", name=f"Revoke vps {server} from {name}")
    expect(revoke).to_be_visible()
    given = [(g["username"], g["kind"], g["resource"]) for g in admin_api.get("/api/grants").json()]
    assert (name, "vps", server) in given
    revoke.click()
    expect(revoke).to_have_count(0)
    assert server not in {g["resource"] for g in admin_api.get("/api/grants").json()}


def test_a_token_made_on_the_page_works_until_revoked_there(
    admin_page: Page, admin_api: httpx.Client, unique: Callable[[str], str]
) -> None:
    name, page = unique("ci"), admin_page
    page.goto("/admin/tokens")
    page.get_by_role("button", name="Create token").click()
    dialog = page.get_by_role("dialog", name="Create an API token")
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Scopes").fill("status:read")
    dialog.get_by_role("button", name="Create").click()
    shown = page.get_by_role("status").filter(has_text="never shown again").locator("code")
    expect(shown).to_be_visible()
    token = shown.inner_text().strip()
    base = str(admin_api.base_url).rstrip("/")
    assert httpx.get(f"{base}/api/status", headers=bearer(token)).status_code == 200
    assert httpx.get(f"{base}/api/users", headers=bearer(token)).status_code == 403  # its scopes

    page.get_by_role("button", name="Done").click()
    page.get_by_role("button", name=f"Revoke {name}").click()
    expect(page.get_by_role("button", name=f"Revoke {name}")).to_have_count(0)
    assert httpx.get(f"{base}/api/status", headers=bearer(token)).status_code == 401


def test_the_audit_log_filters_by_user_and_action(
    admin_page: Page, admin_api: httpx.Client, open_page: Callable[..., Page]
) -> None:
    log_in(open_page(), *VIEWER)  # the viewer logs in: audited
    wanted = {"username": VIEWER[0], "action": "auth.login", "limit": 50}  # the page's page
    logins = len(admin_api.get("/api/audit", params=wanted).json()["items"])
    assert logins >= 1
    page = admin_page
    page.goto("/admin/audit")
    page.get_by_label("Filter by user").fill(VIEWER[0])
    page.get_by_label("Filter by action").fill("auth.login")
    users = page.get_by_role("table", name="Audit log").locator("tbody tr td:nth-child(2)")
    expect(users).to_have_text([VIEWER[0]] * logins)  # retried until the filtered list shows
    page.get_by_label("Filter by action").fill("no-such-action")
    expect(page.get_by_text("Nothing recorded matches.")).to_be_visible()
