"""Sites, assets and categories."""

from __future__ import annotations

from tests.support.factories.core import CoreFactories


class SiteAssetFactories(CoreFactories):
    pass
