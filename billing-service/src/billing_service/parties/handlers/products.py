"""What products do besides the generic operations: one product shows its stock movements,
and stock changes only by an adjustment (each one logged)."""

from __future__ import annotations

from aiohttp import web

from billing_service.parties.keys import PRODUCTS
from billing_service.parties.schemas.resources import StockAdjustment
from billing_service.parties.views import ProductDetailView, ProductView
from billing_service.platform.handlers import data, member_scope
from shared.contract import body_of
from shared.validation import path_id


async def get_product(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    service = request.app[PRODUCTS]
    row = await service.get(scope, path_id(request))
    stock_movements = await service.movements(row["id"])
    return data(ProductDetailView.of(row | {"stock_movements": stock_movements}))


async def adjust_stock(request: web.Request) -> web.Response:
    scope = await member_scope(request, None)
    product_id = path_id(request)
    body = await body_of(request, StockAdjustment)
    row = await request.app[PRODUCTS].adjust_stock(scope, product_id, body.adjustment, body.reason)
    return data(ProductView.of(row))
