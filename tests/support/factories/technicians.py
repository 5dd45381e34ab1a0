"""Technicians and teams."""

from __future__ import annotations

from tests.support.factories.core import CoreFactories


class TechnicianFactories(CoreFactories):
    pass
