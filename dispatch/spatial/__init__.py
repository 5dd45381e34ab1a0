"""Where technicians are, searchable by distance: one interface, two databases.

A technician's *effective position* is their newest fix if it is fresh (at or
after ``fresh_since``), else their home base; a technician with neither is not
placed. :class:`SpatialIndex` answers "the ``limit`` technicians nearest to this
point" by effective position, ordered by an approximate (spherical) distance; the
caller refines the short list with exact geodesics.

- :class:`PostgisIndex` (:mod:`dispatch.spatial.postgis`): KNN (``<->``) over GiST
  indexes.
- :class:`RTreeIndex` (:mod:`dispatch.spatial.rtree`): SQLite's built-in R*Tree,
  which has no KNN: a box around the point grows until the ``limit`` nearest inside
  it are all closer than the box's edge, which makes them the true nearest.

:meth:`SpatialIndex.qualified` gives the nearest *active technicians holding the
skills*, facts included, run on the database driver: the path of
:func:`api.dispatching.services.nearest_qualified`. It reads ``technician_places``
(migrations 0041-0043), where each technician has a home row and a fix row, each
carrying the fix's time and the technician's facts, so one search over one index
finds effective positions with everything dispatch's rules read.
:meth:`SpatialIndex.nearest` and :meth:`SpatialIndex.shortlist` read the structures
of migration 0025 (a KNN over the fixes and one over the home bases, merged). The
database keeps all of them in step. The antimeridian is not handled (a box is
clipped at ±180°), which is fine for the fleets Fieldline serves.
"""

from __future__ import annotations

from dispatch.spatial.places import FIX, HOME, Located, Placed, SpatialIndex
from dispatch.spatial.postgis import PostgisIndex
from dispatch.spatial.rtree import RTreeIndex

__all__ = [
    "FIX",
    "HOME",
    "Located",
    "Placed",
    "PostgisIndex",
    "RTreeIndex",
    "SpatialIndex",
    "index_for",
]


def index_for(dialect_name: str) -> SpatialIndex:
    return PostgisIndex() if dialect_name == "postgresql" else RTreeIndex()
