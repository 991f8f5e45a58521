"""Products and services, and the stock of products (every change a logged movement)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg

from billing_service.companies.services.scoped import get_scoped, resolve_company
from billing_service.parties import repositories as repo
from billing_service.parties.schemas.resources import ProductFilter
from billing_service.parties.services.resources import ResourceService
from billing_service.platform.permissions import require
from billing_service.platform.repositories import crud
from billing_service.platform.repositories.crud import Row
from billing_service.platform.repositories.sql import Conditions
from billing_service.platform.scope import Scope
from shared.errors import ValidationFailed


class ProductService(ResourceService[ProductFilter]):
    table = repo.PRODUCTS
    what = "product"
    permission = "products.write"

    async def create(self, scope: Scope, company_id: int | None, values: dict[str, Any]) -> Row:
        stock = values.pop("stock_quantity", None)
        if values.get("type", "service") == "service" and stock is not None:
            raise ValidationFailed.field("stock_quantity", "Services have no stock.")
        async with self.pool.acquire() as conn, conn.transaction():
            company = await resolve_company(conn, scope, company_id, self.personal)
            require(scope, company, self.permission)
            row = await crud.insert(conn, self.table, company, values)
            if row["type"] == "product":
                quantity = await repo.initial_stock(conn, row["id"], stock or 0, scope.user_id)
                row = row | {"stock_quantity": quantity}
            return row

    async def prepare(
        self,
        conn: asyncpg.Connection,
        scope: Scope,
        company_id: int,
        values: dict[str, Any],
        current: Row | None,
    ) -> dict[str, Any]:
        if current is not None and values.get("type", current["type"]) != current["type"]:
            raise ValidationFailed.field("type", "The type of a product cannot be changed.")
        return values

    async def adjust_stock(
        self, scope: Scope, product_id: int, adjustment: Decimal, reason: str | None
    ) -> Row:
        async with self.pool.acquire() as conn, conn.transaction():
            product = await get_scoped(conn, self.table, scope, product_id, lock=True)
            require(scope, product["company_id"], self.permission)
            if product["type"] != "product" or product["stock_quantity"] is None:
                raise ValidationFailed.field("adjustment", "Services have no stock to adjust.")
            if product["stock_quantity"] + adjustment < 0:
                raise ValidationFailed.field(
                    "adjustment",
                    "The stock cannot go below zero "
                    f"(in stock: {product['stock_quantity'].normalize()}).",
                )
            quantity = await repo.adjust_stock(conn, product_id, adjustment, reason, scope.user_id)
            return product | {"stock_quantity": quantity}

    async def movements(self, product_id: int) -> list[Row]:
        return await repo.recent_movements(self.pool, product_id)

    async def conditions(self, scope: Scope, query: ProductFilter) -> Conditions:
        where = await super().conditions(scope, query)
        return repo.product_conditions(where, query.search, query.type, query.active)
