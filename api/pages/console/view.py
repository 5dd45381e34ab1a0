"""What the console's template needs: the filters' choices and every word its script
shows, in the page's language (the script never holds text of its own)."""

from __future__ import annotations

from typing import Any

from api.auth.actor import Actor
from api.board.rules import Activity, SlaState
from api.categories.queries import CategoryNode, category_tree
from api.http.context import read_uow, state
from api.pages import i18n
from api.teams.queries import list_teams
from api.tenants.models import Tenant
from api.workorders.states import Priority, Status
from sync_protocol.records import Resolution

_ = i18n.gettext


def ngettext(singular: str, plural: str) -> list[str]:
    """Both forms of a counted text (``%(count)s``), for the script to choose by number:
    English has two, Chinese one (the catalogue answers the same for both). Named like
    gettext's own so that ``pybabel extract`` finds its messages."""
    found = i18n.translations(i18n.current())
    return [found.ungettext(singular, plural, 1), found.ungettext(singular, plural, 2)]


_MAX_TEAMS = 200  # a list page's ceiling; more teams than this would need a search box


def console_context(actor: Actor, csrf_token: str) -> dict[str, Any]:
    config = state().config
    english = i18n.current() == "en"
    with read_uow() as uow:
        tenant = uow.session.get(Tenant, actor.tenant_id)
        teams = list_teams(uow.session, actor, limit=_MAX_TEAMS, cursor=None).items
        tree = category_tree(uow.session, actor)
        team_choices = [(str(t.id), (t.name_en if english else None) or t.name) for t in teams]
        category_choices = list(_flattened(tree, english))
    return {
        "csrf_token": csrf_token,
        "teams": team_choices,
        "categories": category_choices,
        "priorities": [(p.value, priority_labels()[p.value]) for p in Priority],
        "statuses": [(s.value, status_labels()[s.value]) for s in _OPEN],
        "timezone": tenant.timezone if tenant is not None else "UTC",
        "tiles_url": config.map_tiles_url,
        "tiles_attribution": config.map_tiles_attribution,
        "texts": script_texts(),
    }


_OPEN = (
    Status.NEW,
    Status.ASSIGNED,
    Status.ACCEPTED,
    Status.EN_ROUTE,
    Status.ON_SITE,
    Status.IN_PROGRESS,
    Status.PAUSED,
)


def _flattened(nodes: list[CategoryNode], english: bool) -> Any:
    for node in nodes:
        name = (node.name_en if english else None) or node.name
        yield str(node.id), "\u2003" * (node.level - 1) + name
        yield from _flattened(node.children, english)


def status_labels() -> dict[str, str]:
    return {
        Status.NEW: _("New"),
        Status.ASSIGNED: _("Assigned"),
        Status.ACCEPTED: _("Accepted"),
        Status.EN_ROUTE: _("On the way"),
        Status.ON_SITE: _("On site"),
        Status.IN_PROGRESS: _("In progress"),
        Status.PAUSED: _("Paused"),
        Status.COMPLETED: _("Completed"),
        Status.CLOSED: _("Closed"),
        Status.CANCELLED: _("Cancelled"),
    }


def priority_labels() -> dict[str, str]:
    return {
        Priority.URGENT: _("Urgent"),
        Priority.HIGH: _("High"),
        Priority.MEDIUM: _("Medium"),
        Priority.LOW: _("Low"),
    }


def script_texts() -> dict[str, Any]:
    """Every text the console's script writes, by key."""
    return {
        "status": status_labels(),
        "priority": priority_labels(),
        "sla": {
            SlaState.NONE: _("No SLA"),
            SlaState.ON_TRACK: _("On track"),
            SlaState.AT_RISK: _("At risk"),
            SlaState.BREACHED: _("Breached"),
            SlaState.PAUSED: _("SLA paused"),
        },
        "activity": {
            Activity.WORKING: _("Working on site"),
            Activity.TRAVELLING: _("Travelling"),
            Activity.BUSY: _("Busy"),
            Activity.AVAILABLE: _("Available"),
        },
        "parts": {
            "travel": _("Travel"),
            "workload": _("Workload"),
            "sla": _("SLA"),
            "tier": _("Customer tier"),
            "continuity": _("Continuity"),
        },
        "resolution": {
            Resolution.KEEP_SERVER: _("Keep the office's value"),
            Resolution.TAKE_DEVICE: _("Take the device's value"),
        },
        "loading": _("Loading…"),
        "failed": _("Could not load. Retrying shortly."),
        "orders_count": ngettext("%(count)s open order", "%(count)s open orders"),
        "orders_more": _("The first %(count)s open orders: narrow the filters to see the others."),
        "unassigned": _("Unassigned"),
        "unplaced": _("No position"),
        "no_orders": _("No open order matches these filters."),
        "no_position": _("No recent position"),
        "current_job": _("On %(number)s"),
        "open_orders": ngettext("%(count)s open order", "%(count)s open orders"),
        "assign": _("Assign"),
        "reassign": _("Reassign"),
        "assign_to": _("Assign %(number)s to %(name)s"),
        "assigned": _("%(number)s assigned to %(name)s."),
        "stale": _(
            "Someone changed this order meanwhile. It has been refreshed: check it and try again."
        ),
        "refused": _("Refused: %(reason)s"),
        "score": _("Score"),
        "distance": _("%(km)s km, about %(minutes)s min"),
        "candidates_none": _("No technician can take this order now."),
        "excluded": _("Left out"),
        "timeline": _("Timeline"),
        "arrival_suggested": _("Arrival suggested by the geofence"),
        "arrival_recorded": _("Arrival recorded by the geofence"),
        "departure_seen": _("Departure seen by the geofence"),
        "evidence": ngettext(
            "%(count)s fix: first %(first)s (%(metres)s m), last %(last)s",
            "%(count)s fixes: first %(first)s (%(metres)s m), last %(last)s",
        ),
        "photos": _("Photos"),
        "no_photos": _("No photos yet."),
        "photo_alt": _("Photo %(index)s of the order"),
        "candidates": _("Candidates"),
        "close": _("Close"),
        "due": _("Due %(time)s"),
        "planning": _("Planning…"),
        "plan_summary": ngettext("%(count)s visit", "%(count)s visits"),
        "plan_technicians": ngettext("%(count)s technician", "%(count)s technicians"),
        "plan_left_out": ngettext(
            "%(count)s order could not be placed", "%(count)s orders could not be placed"
        ),
        "plan_applied": ngettext(
            "The plan was applied: %(count)s order assigned and scheduled.",
            "The plan was applied: %(count)s orders assigned and scheduled.",
        ),
        "plan_empty": _("Nothing to plan that day."),
        "conflicts_none": _("No open conflict."),
        "quarantine_none": _("Nothing parked."),
        "devices_none": _("No device has synced yet."),
        "discard": _("Discard"),
        "resolved": _("Resolved."),
        "discarded": _("Discarded."),
        "office_value": _("Office: %(value)s"),
        "device_value": _("Device: %(value)s"),
        "pending": ngettext(
            "%(count)s change waiting to sync", "%(count)s changes waiting to sync"
        ),
        "last_contact": _("Last contact %(time)s"),
        "never": _("never"),
        "quarantined": _("%(count)s parked"),
        "clock_wrong": _("Clock is wrong"),
        "signed_out": _("Your session has ended. Sign in again."),
    }
