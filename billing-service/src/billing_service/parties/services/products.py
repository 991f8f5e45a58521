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
        stock = values.pop("stock_quantity", None)  # a service has none (ProductCreate)
        async with self.pool.acquire() as conn, conn.transaction():
            company = await resolve_company(conn, scope, company_id, self.personal)
            require(scope, company, self.permission)
            row = await crud.insert(conn, self.table, company, values)
            if row["type"] == "product":
                quantity = await repo.initial_stock(conn, row["id"], stock or 0, scope.user_id)
                row = row | {"stock_quantity": quantity}
            return row

    async def create_many(
        self, conn: asyncpg.Connection, scope: Scope, company_id: int, rows: list[dict[str, Any]]
    ) -> list[Row]:
        """Products of one company at once (an import), in the caller's transaction, each as
        `create` makes one: a product's initial stock a logged movement."""
        require(scope, company_id, self.permission)
        stocks = [values.get("stock_quantity") or Decimal(0) for values in rows]
        created = await crud.insert_many(
            conn, self.table, company_id, [_without_stock(values) for values in rows]
        )
        stocked = [
            (row["id"], stock) for row, stock in zip(created, stocks, strict=True)
            if row["type"] == "product"
        ]  # fmt: skip
        quantities = await repo.initial_stocks(conn, stocked, scope.user_id)
        return [row | {"stock_quantity": quantities.get(row["id"])} for row in created]

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


def _without_stock(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if name != "stock_quantity"}
