"""User accounts: create, list, change, remove; first-start admin bootstrap."""

from __future__ import annotations

import asyncio
import re
import time

import msgspec
import sqlalchemy as sa

from skyport.auth.passwords import generate_password, hash_password, password_problem
from skyport.store import Database
from skyport.store.tables import users

_VALID_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class User(msgspec.Struct, frozen=True):
    """A user as the API shows it (never with the password hash)."""

    id: int
    username: str
    role: str
    disabled: bool
    created_at: float


class AccountError(ValueError):
    """A change to an account was refused; the message says why."""


class UserExists(AccountError):
    pass


def _user(row: sa.Row) -> User:
    return User(row.id, row.username, row.role, bool(row.disabled), row.created_at)


class UserBook:
    """The users table."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def all(self) -> list[User]:
        async with self.database.connect() as conn:
            rows = await conn.execute(sa.select(users).order_by(users.c.username))
            return [_user(r) for r in rows]

    async def get(self, username: str) -> User | None:
        async with self.database.connect() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.username == username))).first()
        return _user(row) if row else None

    async def password_hash(self, username: str) -> tuple[User, str] | None:
        async with self.database.connect() as conn:
            row = (await conn.execute(sa.select(users).where(users.c.username == username))).first()
        return (_user(row), row.password_hash) if row else None

    async def create(self, username: str, password: str, role: str) -> User:
        if not _VALID_USERNAME.match(username):
            raise AccountError(
                "username must be 1-64 characters: letters, digits, '.', '_', '@', '-'"
            )
        if problem := password_problem(password):
            raise AccountError(problem)
        if await self.get(username):
            raise UserExists(f"user {username!r} already exists")
        values = {
            "username": username,
            "password_hash": await asyncio.to_thread(hash_password, password),
            "role": role,
            "disabled": False,
            "created_at": time.time(),
        }
        try:
            async with self.database.begin() as conn:
                await conn.execute(users.insert().values(values))
        except sa.exc.IntegrityError:  # made meanwhile (by another server of the cluster)
            raise UserExists(f"user {username!r} already exists") from None
        created = await self.get(username)
        assert created is not None
        return created

    async def update(
        self,
        username: str,
        *,
        role: str | None = None,
        password: str | None = None,
        disabled: bool | None = None,
    ) -> User | None:
        values: dict[str, object] = {}
        if role is not None:
            values["role"] = role
        if disabled is not None:
            values["disabled"] = disabled
        if password is not None:
            if problem := password_problem(password):
                raise AccountError(problem)
            values["password_hash"] = await asyncio.to_thread(hash_password, password)
        if values:
            async with self.database.begin() as conn:
                await conn.execute(
                    users.update().where(users.c.username == username).values(values)
                )
        return await self.get(username)

    async def delete(self, username: str) -> bool:
        async with self.database.begin() as conn:
            deleted = await conn.execute(users.delete().where(users.c.username == username))
        return deleted.rowcount > 0

    async def count_admins(self) -> int:
        async with self.database.connect() as conn:
            query = sa.select(sa.func.count()).where(users.c.role == "admin", ~users.c.disabled)
            return int((await conn.execute(query)).scalar_one())

    async def bootstrap_admin(self, password: str | None) -> str | None:
        """On an empty users table create ``admin``; return the generated password.

        ``password`` (from ``SKYPORT_ADMIN_PASSWORD``) is used when given, and
        then nothing is returned. No default password exists.
        """
        async with self.database.connect() as conn:
            if (await conn.execute(sa.select(sa.func.count()).select_from(users))).scalar_one():
                return None
        chosen = password or generate_password()
        try:
            await self.create("admin", chosen, "admin")
        except UserExists:  # another server of the cluster got there first
            return None
        return None if password else chosen
