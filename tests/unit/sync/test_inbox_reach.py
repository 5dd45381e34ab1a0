"""Which office transitions a ``take_device`` takes to reach a device's status (§ 8.6)."""

from __future__ import annotations

import itertools

import pytest

from api.sync.inbox.reach import Holder, office_route
from sync_protocol.workorder_status import Action, Party, Status, plan

_FINAL = {Status.COMPLETED, Status.CLOSED, Status.CANCELLED}


def test_a_completion_after_a_cancel_is_reached_by_reopening_and_walking_the_job() -> None:
    assert office_route(Status.CANCELLED, Holder.TECHNICIAN, Status.COMPLETED) == [
        Action.REOPEN,
        Action.ACCEPT,
        Action.START_TRAVEL,
        Action.ARRIVE,
        Action.START_WORK,
        Action.COMPLETE,
    ]
    # Cancelled with nobody assigned: reopening leads to new, so the technician is assigned.
    route = office_route(Status.CANCELLED, Holder.NOBODY, Status.COMPLETED)
    assert route is not None and route[:2] == [Action.REOPEN, Action.ASSIGN]


def test_an_order_someone_else_has_set_off_on_cannot_be_taken_back() -> None:
    assert office_route(Status.EN_ROUTE, Holder.OTHER, Status.ACCEPTED) is None
    assert office_route(Status.EN_ROUTE, Holder.TECHNICIAN, Status.NEW) is None
    assert office_route(Status.ASSIGNED, Holder.OTHER, Status.ACCEPTED) == [
        Action.ASSIGN,
        Action.ACCEPT,
    ]


def test_a_value_the_order_already_shows_needs_no_step() -> None:
    assert office_route(Status.COMPLETED, Holder.TECHNICIAN, Status.COMPLETED) == []
    assert office_route(Status.NEW, Holder.NOBODY, Status.NEW) == []


@pytest.mark.parametrize(
    ("start", "holder", "target"),
    list(itertools.product(Status, Holder, Status)),
)
def test_every_route_is_legal_for_the_office_and_never_passes_a_final_status(
    start: Status, holder: Holder, target: Status
) -> None:
    route = office_route(start, holder, target)
    if route is None:
        return
    status, has_assignee = start, holder is not Holder.NOBODY
    for step, action in enumerate(route):
        moved = plan(status, action, Party.OFFICE, has_assignee=has_assignee)
        if action is Action.REOPEN:
            assert step == 0  # only ever undoes where the order started
        status = moved.to_status
        has_assignee = (action is Action.ASSIGN) or (
            has_assignee and action not in (Action.UNASSIGN, Action.DECLINE)
        )
        if step < len(route) - 1:
            assert status not in _FINAL or (status, target) == (Status.COMPLETED, Status.CLOSED)
    assert status is target
