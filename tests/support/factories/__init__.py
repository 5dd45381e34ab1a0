"""Test data, arranged through the real services (never raw SQL).

Each domain contributes a mixin; :class:`Factories` combines them.
"""

from __future__ import annotations

from tests.support.factories.core import CoreFactories, World
from tests.support.factories.customers import CustomerFactories
from tests.support.factories.sites_assets import SiteAssetFactories
from tests.support.factories.technicians import TechnicianFactories
from tests.support.factories.workorders import WorkOrderFactories


class Factories(
    WorkOrderFactories, TechnicianFactories, SiteAssetFactories, CustomerFactories, CoreFactories
):
    pass


__all__ = ["Factories", "World"]
