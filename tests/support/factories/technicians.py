"""Technicians and teams."""

from __future__ import annotations

import itertools
from typing import Any

from api.auth.permissions import Role
from api.teams import services as team_services
from api.teams.models import Team
from api.technicians import services
from api.technicians.models import Technician
from api.technicians.queries import access_technician
from api.users.models import User
from tests.support.factories.core import CoreFactories, World

_n = itertools.count(1)


class TechnicianFactories(CoreFactories):
    def technician(self, world: World, **data: Any) -> Technician:
        n = next(_n)
        fields: dict[str, Any] = {
            "name": f"技师 {n}",
            "name_en": f"Technician {n}",
            "employee_no": f"E{n:05d}",
        }
        fields.update(data)
        return services.create_technician(self.uow(), world.admin_actor, fields)

    def technician_user(self, world: World, **data: Any) -> tuple[Technician, User, str]:
        """A technician who logs in: the record, its user and an access token.

        Linking the user updates the technician, so the record is read again
        (its version and ``user_id`` are current)."""
        technician = self.technician(world, **data)
        user, token = self.user(world, Role.TECHNICIAN, technician_id=technician.id)
        with self.uow() as uow:
            technician = access_technician(uow.session, world.admin_actor, technician.id)
        return technician, user, token

    def team(self, world: World, **data: Any) -> Team:
        n = next(_n)
        fields: dict[str, Any] = {"name": f"班组 {n}", "name_en": f"Team {n}"}
        fields.update(data)
        return team_services.create_team(self.uow(), world.admin_actor, fields)
