"""Sites, assets and categories."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from api.assets import services as asset_services
from api.assets.models import Asset
from api.categories import queries as category_queries
from api.categories import services as category_services
from api.categories.models import Category
from api.customers.models import Customer
from api.sites import services as site_services
from api.sites.models import Site
from tests.support.factories.core import CoreFactories, World

_n = itertools.count(1)


class SiteAssetFactories(CoreFactories):
    def site(self, world: World, customer: Customer, **data: Any) -> Site:
        n = next(_n)
        fields: dict[str, Any] = {
            "customer_id": customer.id,
            "name": f"站点 {n}",
            "name_en": f"Site {n}",
            "address": f"上海市浦东新区世纪大道 {n} 号",
            "city": "上海",
            "position": {"lat": 31.2304, "lon": 121.4737},
        }
        fields.update(data)
        return site_services.create_site(self.uow(), world.admin_actor, fields)

    def asset(self, world: World, site: Site, **data: Any) -> Asset:
        n = next(_n)
        fields: dict[str, Any] = {
            "site_id": site.id,
            "name": f"冷水机组 {n}",
            "name_en": f"Chiller {n}",
            "manufacturer": "Carrier",
            "serial_number": f"SN-{n:06d}",
        }
        fields.update(data)
        return asset_services.create_asset(self.uow(), world.admin_actor, fields)

    def category_path(
        self, world: World, codes: Sequence[str] = ("hvac", "chiller", "no_cooling")
    ) -> list[Category]:
        """The categories with these codes, level 1 first, each the child of the one before.

        Codes that already exist in the tenant are reused, so several calls in one
        test share a taxonomy. ``[-1]`` is the leaf (what a work order names).
        """
        path: list[Category] = []
        for code in codes:
            parent = path[-1] if path else None
            existing = self._category_with_code(world, code)
            if existing is None:
                data: dict[str, Any] = {"code": code, "name": f"分类 {code}", "name_en": code}
                if parent is not None:
                    data["parent_id"] = parent.id
                existing = category_services.create_category(self.uow(), world.admin_actor, data)
            path.append(existing)
        return path

    def _category_with_code(self, world: World, code: str) -> Category | None:
        with self.uow() as uow:
            page = category_queries.list_categories(
                uow.session, world.admin_actor, limit=1, cursor=None, code=code
            )
        return page.items[0] if page.items else None
