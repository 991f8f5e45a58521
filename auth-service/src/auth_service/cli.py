"""Command line: `python -m auth_service [serve | create-user ...]`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from auth_service.app import MIGRATIONS, create_app
from auth_service.repositories import users as user_repo
from auth_service.services.passwords import PasswordHasher
from auth_service.settings import Settings
from shared.db import apply_migrations, create_pool
from shared.web import run


async def create_user(settings: Settings, email: str, password: str, name: str, kind: str) -> int:
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        await apply_migrations(pool, MIGRATIONS)
        user = await user_repo.insert(
            pool,
            kind=kind,
            name=name,
            email=email,
            password_hash=await PasswordHasher.from_settings(settings).hash(password),
            first_name=name.partition(" ")[0] or None,
            last_name=name.partition(" ")[2] or None,
        )
    finally:
        await pool.close()
    if user is None:
        print(f"error: a user with e-mail {email} already exists", file=sys.stderr)
        return 1
    print(f"created user {user.id} <{user.email}> ({user.kind})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="auth_service")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the HTTP service (default)")
    new_user = commands.add_parser("create-user", help="create a user")
    new_user.add_argument("--email", required=True)
    new_user.add_argument("--password", required=True)
    new_user.add_argument("--name", required=True)
    new_user.add_argument("--kind", choices=("member", "client"), default="member")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "create-user":
        return asyncio.run(create_user(settings, args.email, args.password, args.name, args.kind))
    run(
        lambda: create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
    )
    return 0
