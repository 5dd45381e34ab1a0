"""Work orders, notes and transitions."""

from __future__ import annotations

from tests.support.factories.core import CoreFactories


class WorkOrderFactories(CoreFactories):
    pass
