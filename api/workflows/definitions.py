"""Workflow definitions as data: parsing and structural checks. Pure (no Flask, no database).

A definition is a small graph of steps. Each step names its ``next`` steps;
``start`` names the first ones (default: the first step listed). A step whose
``next`` lists several steps opens a parallel group, and a step that several
steps name as ``next`` waits for all of them (a join), so "first line → two
technical teams in parallel → customer success" is four steps and no special
syntax. Each step has an owner (``{"team_id": ...}`` or ``{"role": ...}``) and
an approval mode: ``single`` (one person of the owner completes it),
``countersign`` (every approver listed must approve) or ``any_of`` (one of the
approvers listed). A step may also be done by the order's status
(``done_when_status``): the technical step is done when the order is completed.

Everything that could make an order stuck later is refused here, at save time,
as a list of :class:`Problem` with stable codes: loops, steps no path reaches,
unknown step names, duplicate keys, empty approver sets, unknown roles. Team ids
are only collected (:func:`team_ids`): whether they exist in the tenant is the
caller's question.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# Roles a step may be owned by: people of the tenant's staff (a customer contact
# or an API key never owns a step).
OWNER_ROLES = frozenset({"admin", "dispatcher", "technician"})
MAX_STEPS = 50


class Approval(StrEnum):
    SINGLE = "single"
    COUNTERSIGN = "countersign"  # all of the approvers
    ANY_OF = "any_of"  # one of the approvers


@dataclass(frozen=True)
class Party:
    """Who may act: the members of a team, or everyone with a role."""

    kind: str  # "team" or "role"
    value: str  # the team's id (as text) or the role's name

    def to_json(self) -> dict[str, str]:
        return {"team_id" if self.kind == "team" else "role": self.value}


@dataclass(frozen=True)
class Step:
    key: str
    name: str
    name_en: str | None
    owner: Party
    approval: Approval
    approvers: tuple[Party, ...]
    next: tuple[str, ...]
    done_when_status: frozenset[str]

    @property
    def deciders(self) -> tuple[Party, ...]:
        """Whose decisions complete the step: the owner, or the approvers listed."""
        return (self.owner,) if self.approval is Approval.SINGLE else self.approvers


@dataclass(frozen=True)
class Definition:
    start: tuple[str, ...]
    steps: tuple[Step, ...]

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)

    def predecessors(self, key: str) -> tuple[str, ...]:
        return tuple(s.key for s in self.steps if key in s.next)


class ProblemKind(StrEnum):
    """The stable error code of each kind of bad definition (``api.workflows.errors``)."""

    LOOP = "workflow.loop"
    UNREACHABLE = "workflow.unreachable_step"
    UNKNOWN_STEP = "workflow.unknown_step"
    DUPLICATE_STEP = "workflow.duplicate_step"
    NO_APPROVERS = "workflow.no_approvers"
    UNKNOWN_ROLE = "workflow.unknown_role"
    UNKNOWN_TEAM = "workflow.unknown_team"
    INVALID_STEP = "workflow.invalid_step"


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    field: str  # where in the request body, e.g. "steps[2].next[0]"
    message: str


def parse(data: Mapping[str, Any], statuses: frozenset[str]) -> tuple[Definition, list[Problem]]:
    """Build a definition from already type-checked JSON and list everything wrong with it.

    ``statuses`` are the order statuses a ``done_when_status`` may name.
    """
    problems: list[Problem] = []
    steps = tuple(_step(i, raw, statuses, problems) for i, raw in enumerate(data["steps"]))
    keys = [s.key for s in steps]
    for index, key in enumerate(keys):
        if key in keys[:index]:
            problems.append(
                Problem(ProblemKind.DUPLICATE_STEP, f"steps[{index}].key", f"{key!r} twice")
            )
    start = tuple(data.get("start") or keys[:1])
    known = set(keys)
    for index, key in enumerate(start):
        if key not in known:
            problems.append(
                Problem(ProblemKind.UNKNOWN_STEP, f"start[{index}]", f"No step {key!r}")
            )
    for i, step in enumerate(steps):
        for j, key in enumerate(step.next):
            if key not in known:
                problems.append(
                    Problem(ProblemKind.UNKNOWN_STEP, f"steps[{i}].next[{j}]", f"No step {key!r}")
                )
    definition = Definition(start, steps)
    if not problems:
        problems += _graph_problems(definition)
    return definition, problems


def team_ids(definition: Definition) -> dict[str, uuid.UUID | None]:
    """Every team a definition names, by where it names it (None: not a UUID at all)."""
    found: dict[str, uuid.UUID | None] = {}
    for i, step in enumerate(definition.steps):
        parties = [("owner", step.owner)] + [
            (f"approvers[{j}]", p) for j, p in enumerate(step.approvers)
        ]
        for where, party in parties:
            if party.kind == "team":
                found[f"steps[{i}].{where}.team_id"] = _uuid(party.value)
    return found


def _step(index: int, raw: Mapping[str, Any], statuses: frozenset[str], out: list[Problem]) -> Step:
    where = f"steps[{index}]"
    approval = Approval(raw.get("approval") or Approval.SINGLE)
    owner = _party(f"{where}.owner", raw["owner"], out)
    approvers = tuple(
        _party(f"{where}.approvers[{j}]", p, out) for j, p in enumerate(raw.get("approvers") or [])
    )
    if approval is not Approval.SINGLE and not approvers:
        out.append(
            Problem(ProblemKind.NO_APPROVERS, f"{where}.approvers", f"{approval} needs approvers")
        )
    if approval is Approval.SINGLE and approvers:
        out.append(
            Problem(
                ProblemKind.INVALID_STEP,
                f"{where}.approvers",
                "Only countersign and any_of steps have approvers; the owner decides alone",
            )
        )
    if len(set(approvers)) != len(approvers):
        out.append(Problem(ProblemKind.INVALID_STEP, f"{where}.approvers", "An approver twice"))
    done_when = frozenset(raw.get("done_when_status") or [])
    for status in sorted(done_when - statuses):
        out.append(
            Problem(ProblemKind.INVALID_STEP, f"{where}.done_when_status", f"No status {status!r}")
        )
    if done_when and approval is not Approval.SINGLE:
        out.append(
            Problem(
                ProblemKind.INVALID_STEP,
                f"{where}.done_when_status",
                "An approval is decided by people, not by the order's status",
            )
        )
    nexts = tuple(raw.get("next") or [])
    if len(set(nexts)) != len(nexts):
        out.append(Problem(ProblemKind.DUPLICATE_STEP, f"{where}.next", "A next step twice"))
    return Step(
        key=raw["key"],
        name=raw["name"],
        name_en=raw.get("name_en"),
        owner=owner,
        approval=approval,
        approvers=approvers,
        next=nexts,
        done_when_status=done_when,
    )


def _party(where: str, raw: Mapping[str, Any], out: list[Problem]) -> Party:
    team, role = raw.get("team_id"), raw.get("role")
    if (team is None) == (role is None):
        out.append(Problem(ProblemKind.INVALID_STEP, where, "Name a team_id or a role (one)"))
        return Party("role", "admin")
    if role is not None:
        if role not in OWNER_ROLES:
            out.append(
                Problem(ProblemKind.UNKNOWN_ROLE, f"{where}.role", f"No staff role {role!r}")
            )
        return Party("role", str(role))
    return Party("team", str(team))


def _graph_problems(definition: Definition) -> list[Problem]:
    index = {s.key: i for i, s in enumerate(definition.steps)}
    problems: list[Problem] = []
    # Depth-first search from the start steps: a step met again on the current path
    # closes a loop; a step never met is unreachable.
    state: dict[str, int] = {}  # 1: on the path, 2: finished

    def visit(key: str, path: list[str]) -> None:
        state[key] = 1
        for nxt in definition.step(key).next:
            if state.get(nxt) == 1:
                cycle = " → ".join([*path[path.index(nxt) :], nxt])
                problems.append(
                    Problem(ProblemKind.LOOP, f"steps[{index[key]}].next", f"Loop: {cycle}")
                )
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[key] = 2

    for key in definition.start:
        if key not in state:
            visit(key, [key])
    for step in definition.steps:
        if step.key not in state:
            problems.append(
                Problem(
                    ProblemKind.UNREACHABLE,
                    f"steps[{index[step.key]}]",
                    f"No path from the start reaches {step.key!r}",
                )
            )
    return problems


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def as_json(definition: Definition) -> dict[str, Any]:
    """The stored form (what a version keeps): the definition, normalised."""
    return {"start": list(definition.start), "steps": [_step_json(s) for s in definition.steps]}


def _step_json(step: Step) -> dict[str, Any]:
    return {
        "key": step.key,
        "name": step.name,
        "name_en": step.name_en,
        "owner": step.owner.to_json(),
        "approval": step.approval.value,
        "approvers": [p.to_json() for p in step.approvers],
        "next": list(step.next),
        "done_when_status": sorted(step.done_when_status),
    }


def load(stored: Mapping[str, Any]) -> Definition:
    """A definition back from its stored form (already checked when it was saved)."""
    definition, _ = parse(stored, frozenset(_all_statuses(stored)))
    return definition


def _all_statuses(stored: Mapping[str, Any]) -> Sequence[str]:
    return [s for step in stored["steps"] for s in step.get("done_when_status") or []]
