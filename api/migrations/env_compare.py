"""Options shared by autogenerate and the schema-drift test, so both compare alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.types import UserDefinedType


class _Geography(UserDefinedType[Any]):
    """PostGIS's type, named only so reflection knows it (the column is skipped)."""

    cache_ok = True

    def __init__(self, *args: Any) -> None:
        self.args = args

    def get_col_spec(self, **kw: Any) -> str:
        return "geography"


# Reflection would warn on PostGIS's type; the column is skipped below all the same.
ischema_names.setdefault("geography", _Geography)

# The spatial indexes live outside the models (migrations 0025, 0039, 0041): PostGIS's
# own catalogue table, the geography column and GiST indexes on PostgreSQL, the R*Tree
# virtual tables (and the shadow tables SQLite keeps for them) on SQLite, and
# ``technician_places``, which triggers derive from technicians and their fixes.
_SPATIAL_TABLES = ("spatial_ref_sys",)
_SPATIAL_PREFIXES = (
    "technician_locations_rtree",
    "technician_homes_rtree",
    "technician_positions_rtree",
    "technician_places",
)
_SPATIAL_OBJECTS = frozenset(
    {
        "geog",
        "ix_technician_locations_geog",
        "ix_technicians_home_geog",
        "ix_technician_positions_geog",
    }
)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    if type_ == "table" and name is not None:
        return name not in _SPATIAL_TABLES and not name.startswith(_SPATIAL_PREFIXES)
    return True


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (reflected and compare_to is None and name in _SPATIAL_OBJECTS)


def compare_options() -> dict[str, Any]:
    return {
        "compare_type": False,
        "render_as_batch": True,
        "include_name": include_name,
        "include_object": include_object,
    }
