"""Command line: `python -m auth_service [serve | create-user ...]`."""

from __future__ import annotations

import argparse
import asyncio
import sys

import redis.asyncio as redis

from auth_service.app import MIGRATIONS, account_service, create_app
from auth_service.settings import Settings
from shared.db import apply_migrations, create_pool
from shared.errors import ValidationFailed
from shared.web import run


async def create_user(settings: Settings, email: str, password: str, name: str, kind: str) -> int:
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    # Never connected to: creating a user counts no login attempt.
    redis_client = redis.Redis.from_url(settings.redis_url)
    try:
        await apply_migrations(pool, MIGRATIONS)
        accounts = account_service(settings, pool, redis_client)
        user = await accounts.create_user(email=email, password=password, name=name, kind=kind)
    except ValidationFailed:
        print(f"error: a user with e-mail {email} already exists", file=sys.stderr)
        return 1
    finally:
        await redis_client.aclose()
        await pool.close()
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
    run(lambda: create_app(settings), settings)
    return 0
