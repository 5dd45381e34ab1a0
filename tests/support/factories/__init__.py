"""Test data, arranged through the real services (never raw SQL).

Each domain contributes a mixin; :class:`Factories` combines them.
"""

from __future__ import annotations

from tests.support.factories.core import CoreFactories, World
from tests.support.factories.customers import CustomerFactories


class Factories(CustomerFactories, CoreFactories):
    pass


__all__ = ["Factories", "World"]
