"""The route table of auth-service."""

from __future__ import annotations

from aiohttp import web

from auth_service.handlers import internal, public

PUBLIC_WITHOUT_IDENTITY = frozenset({("POST", "/api/v1/tokens"), ("POST", "/api/v1/login")})


def is_public(request: web.Request) -> bool:
    return request.path.startswith("/internal/") or (
        (request.method, request.path) in PUBLIC_WITHOUT_IDENTITY
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/tokens", public.create_token)
    app.router.add_get("/api/v1/tokens", public.list_tokens)
    app.router.add_delete("/api/v1/tokens/{token_id}", public.revoke_token)
    app.router.add_post("/api/v1/login", public.login)
    app.router.add_post("/api/v1/logout", public.logout)
    app.router.add_get("/api/v1/me", public.me)
    app.router.add_get("/api/v1/profile", public.get_profile)
    app.router.add_put("/api/v1/profile", public.update_profile)
    app.router.add_patch("/api/v1/profile", public.update_profile)
    app.router.add_post("/internal/introspect", internal.introspect)
    app.router.add_get("/internal/jwks", internal.jwks)
    app.router.add_post("/internal/users", internal.create_user)
    app.router.add_get("/internal/users", internal.find_users)
    app.router.add_delete("/internal/users/{user_id}", internal.delete_user)
