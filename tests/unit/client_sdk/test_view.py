"""The optimistic view and its rebase: pending mutations laid over any server image follow
the protocol's own merge rules, so what the technician sees is what the server will do."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from uuid_utils.compat import uuid7

from client_sdk.view import OrderView, apply, rebase, server_view
from sync_protocol.entities import EvidenceKind
from sync_protocol.hlc import HLC
from sync_protocol.messages import Mutation
from sync_protocol.mutations import (
    AddNote,
    MutationArgs,
    PatchWorkOrder,
    RecordPart,
    TransitionWorkOrder,
    VoidEvidence,
)
from sync_protocol.workorder_status import Action, Party, Status, allowed_actions

TECH = uuid.UUID("01958d00-0000-7000-8000-0000000000aa")
OTHER = uuid.UUID("01958d00-0000-7000-8000-0000000000bb")
ORDER = "01958e00-0000-7000-8000-000000000001"
NEEDS = {Action.DECLINE: "reason", Action.PAUSE: "reason", Action.COMPLETE: "resolution"}


def _order(status: str = "assigned", assignee: uuid.UUID | None = TECH, **extra: Any) -> OrderView:
    row = {
        "id": ORDER,
        "title": "Boiler service",
        "status": status,
        "assignee_id": str(assignee) if assignee else None,
        "status_hlc": None,
        "resolution": None,
        "actual_start": None,
        "completed_at": None,
        "field_hlcs": {},
        **extra,
    }
    return server_view(ORDER, row)


def _mutation(seq: int, args: MutationArgs) -> Mutation:
    return Mutation(
        seq, HLC(1_741_768_200_000 + seq * 1000, 0, "device"), args.name.value, args.to_json()
    )


@st.composite
def journeys(draw: st.DrawFn) -> list[Mutation]:
    """What a technician might do offline, each step legal from what the screen showed."""
    view, mutations = _order(), []
    added: list[tuple[EvidenceKind, uuid.UUID]] = []
    order = uuid.UUID(ORDER)
    for seq in range(1, draw(st.integers(0, 14)) + 1):
        kind = draw(st.sampled_from(["step", "step", "note", "part", "patch", "void"]))
        status = view.status
        steps = allowed_actions(status, Party.ASSIGNEE) if status else []
        args: MutationArgs
        if kind == "step" and steps:
            action = draw(st.sampled_from(steps))
            extra = {NEEDS[action]: draw(st.sampled_from(["x", "done"]))} if action in NEEDS else {}
            assert status is not None
            args = TransitionWorkOrder(order, action, status, **extra)
        elif kind == "part":
            args = RecordPart(
                uuid7(), order, "Valve seal", draw(st.sampled_from(["1", "2.5"])), "pcs"
            )
            added.append((EvidenceKind.PART, args.id))
        elif kind == "patch":
            field = draw(st.sampled_from(["actual_start", "resolution", "title"]))
            value = (
                "2025-03-12T09:03:00Z"
                if field == "actual_start"
                else draw(st.sampled_from(["a", "b"]))
            )
            args = PatchWorkOrder(order, {field: value})
        elif kind == "void" and added:
            evidence, ident = draw(st.sampled_from(added))
            args = VoidEvidence(evidence, ident, order, "mistake")
        else:
            args = AddNote(uuid7(), order, draw(st.sampled_from(["on site", "leak found"])))
            added.append((EvidenceKind.NOTE, args.id))
        mutation = _mutation(seq, args)
        mutations.append(mutation)
        view = apply(view, mutation, TECH)
    return mutations


@settings(max_examples=150, deadline=None)
@given(pending=journeys())
def test_rebase_equals_applying_the_pending_list_in_order(pending: list[Mutation]) -> None:
    base = _order()
    stepwise = base
    for mutation in pending:  # what the screen showed after each action, one at a time
        stepwise = apply(stepwise, mutation, TECH)
    assert rebase(base, pending, TECH) == stepwise
    assert stepwise.pending == len(pending)


@settings(max_examples=150, deadline=None)
@given(pending=journeys())
def test_mutations_the_server_image_already_contains_change_nothing_when_replayed(
    pending: list[Mutation],
) -> None:
    """A pull that lands before the receipts (lost push response): no double effects."""
    predicted = rebase(_order(), pending, TECH)
    image = replace(predicted, pending=0)
    replayed = rebase(image, pending, TECH)
    assert replayed.row == predicted.row
    assert replayed.evidence == predicted.evidence


@settings(max_examples=100, deadline=None)
@given(pending=journeys())
def test_an_office_cancellation_is_never_overwritten_by_pending_steps(
    pending: list[Mutation],
) -> None:
    view = rebase(_order(status="cancelled"), pending, TECH)
    assert view.status is Status.CANCELLED


@settings(max_examples=100, deadline=None)
@given(pending=journeys())
def test_on_a_reassigned_order_only_a_completion_shows_and_it_restores_the_technician(
    pending: list[Mutation],
) -> None:
    view = rebase(_order(assignee=OTHER), pending, TECH)
    completes = [m for m in pending if m.args.get("action") == "complete"]
    assert view.row is not None
    if completes:
        assert (view.status, view.row["assignee_id"]) == (Status.COMPLETED, str(TECH))
    else:
        assert (view.status, view.row["assignee_id"]) == (Status.ASSIGNED, str(OTHER))


def test_a_technician_edit_of_an_office_field_stays_a_proposal() -> None:
    patch = _mutation(
        1,
        PatchWorkOrder(uuid.UUID(ORDER), {"title": "Mine", "actual_start": "2025-03-12T09:03:00Z"}),
    )
    view = rebase(_order(), [patch], TECH)
    assert view.row is not None
    assert view.row["title"] == "Boiler service"
    assert view.row["actual_start"] == "2025-03-12T09:03:00Z"


def test_a_later_office_write_to_a_technician_field_wins_over_an_older_pending_edit() -> None:
    later = str(HLC(1_741_768_200_000 + 60_000, 0, "server"))
    base = _order(
        actual_start="2025-03-12T09:05:00Z",
        field_hlcs={"actual_start": {"hlc": later, "party": "office"}},
    )
    patch = _mutation(1, PatchWorkOrder(uuid.UUID(ORDER), {"actual_start": "2025-03-12T09:03:00Z"}))
    view = rebase(base, [patch], TECH)
    assert view.row is not None and view.row["actual_start"] == "2025-03-12T09:05:00Z"


def test_completion_stamps_and_resolution_show_offline() -> None:
    order = uuid.UUID(ORDER)
    steps = [
        TransitionWorkOrder(order, Action.ACCEPT, Status.ASSIGNED),
        TransitionWorkOrder(order, Action.START_TRAVEL, Status.ACCEPTED),
        TransitionWorkOrder(order, Action.ARRIVE, Status.EN_ROUTE),
        TransitionWorkOrder(order, Action.START_WORK, Status.ON_SITE),
        TransitionWorkOrder(
            order, Action.COMPLETE, Status.IN_PROGRESS, resolution="Seals replaced"
        ),
    ]
    view = rebase(_order(), [_mutation(i + 1, a) for i, a in enumerate(steps)], TECH)
    assert view.row is not None
    assert (view.status, view.row["resolution"]) == (Status.COMPLETED, "Seals replaced")
    assert view.row["completed_at"] == "2025-03-12T08:30:05Z"
    # The actuals show offline as the server will set them: start of work, completion.
    assert view.row["actual_start"] == "2025-03-12T08:30:04Z"
    assert view.row["actual_end"] == "2025-03-12T08:30:05Z"
