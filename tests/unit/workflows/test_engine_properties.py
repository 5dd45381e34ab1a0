"""The workflow engine on random step graphs: nothing is ever stuck, countersign needs every
approver, any-of needs one, and the save-time checks find exactly the loops and orphans."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from api.workflows import engine
from api.workflows.definitions import Approval, Definition, Party, ProblemKind, parse
from api.workflows.engine import Refusal, StepAction, StepStatus

STATUSES = frozenset({"assigned", "in_progress", "completed", "closed"})
POOL = [
    {"team_id": "0195a000-0000-7000-8000-00000000000a"},
    {"team_id": "0195a000-0000-7000-8000-00000000000b"},
    {"team_id": "0195a000-0000-7000-8000-00000000000c"},
    {"role": "dispatcher"},
    {"role": "technician"},
    {"role": "admin"},
]
PARTIES = [Party("team" if "team_id" in p else "role", next(iter(p.values()))) for p in POOL]


@st.composite
def dags(draw: Any) -> dict[str, Any]:
    """A valid definition: edges only go forward, every step after the first has a way in."""
    n = draw(st.integers(1, 7))
    keys = [f"s{i}" for i in range(n)]
    nexts: list[set[str]] = [set() for _ in range(n)]
    roots = ["s0"]
    for j in range(1, n):
        preds = draw(st.sets(st.integers(0, j - 1), max_size=3))
        if not preds:
            roots.append(keys[j])
        for i in preds:
            nexts[i].add(keys[j])
    steps = []
    for i, key in enumerate(keys):
        approval = draw(st.sampled_from(list(Approval)))
        step: dict[str, Any] = {
            "key": key,
            "name": key,
            "owner": draw(st.sampled_from(POOL)),
            "approval": approval.value,
            "next": sorted(nexts[i]),
        }
        if approval is not Approval.SINGLE:
            picks = draw(
                st.lists(st.integers(0, len(POOL) - 1), min_size=1, max_size=4, unique=True)
            )
            step["approvers"] = [POOL[p] for p in picks]
        elif draw(st.booleans()):
            step["done_when_status"] = ["completed"]
        steps.append(step)
    return {"start": roots, "steps": steps}


# A move: act on the k-th active step as some parties, or change the order's status.
moves = st.lists(
    st.one_of(
        st.tuples(
            st.just("act"),
            st.integers(0, 6),
            st.sampled_from(list(StepAction)),
            st.sets(st.integers(0, len(PARTIES) - 1), max_size=3),
            st.booleans(),
        ),
        st.tuples(st.just("status"), st.sampled_from(sorted(STATUSES))),
    ),
    max_size=40,
)


def _definition(data: dict[str, Any]) -> Definition:
    definition, problems = parse(data, STATUSES)
    assert problems == []
    return definition


def _check_invariants(definition: Definition, state: engine.RunState) -> None:
    waiting = engine.waiting_for(definition, state)
    if engine.finished(state):
        assert waiting == {}
        return
    assert waiting, "not finished, yet no step is current"
    for key, parties in waiting.items():
        assert parties, f"step {key} is current but nobody can act on it"


@settings(max_examples=300)
@given(dags(), moves)
def test_no_order_is_ever_stuck_and_approvals_count_as_their_mode_says(
    data: dict[str, Any], script: list[Any]
) -> None:
    definition = _definition(data)
    status = "assigned"
    state = engine.start(definition, status).state
    _check_invariants(definition, state)
    for move in script:
        if move[0] == "status":
            status = move[1]
            state = engine.follow_status(definition, state, status).state
            _check_invariants(definition, state)
            continue
        _, index, action, who, override = move
        current = list(engine.waiting_for(definition, state))
        if not current:
            break
        key = current[index % len(current)]
        try:
            outcome = engine.act(
                definition, state, key, action, {PARTIES[i] for i in who}, status,
                override=override,
            )  # fmt: skip
        except Refusal:
            continue
        step = definition.step(key)
        after = outcome.state[key]
        if after.status is StepStatus.DONE and not override and action is StepAction.APPROVE:
            if step.approval is Approval.COUNTERSIGN:
                assert sorted(after.approved) == list(range(len(step.deciders)))
            if step.approval is Approval.ANY_OF:
                assert len(after.approved) == 1
        if action is StepAction.APPROVE and not override:
            # One person, one approval, even when they are several of the approvers.
            assert len(after.approved) == len(state[key].approved) + 1
        state = outcome.state
        _check_invariants(definition, state)
    # Whatever happened, the owners can always bring the run to its end.
    for _ in range(200):
        waiting = engine.waiting_for(definition, state)
        if not waiting:
            break
        key, parties = next(iter(waiting.items()))
        step = definition.step(key)
        if step.done_when_status and status not in step.done_when_status:
            status = sorted(step.done_when_status)[0]
            state = engine.follow_status(definition, state, status).state
            continue
        action = StepAction.COMPLETE if step.approval is Approval.SINGLE else StepAction.APPROVE
        state = engine.act(definition, state, key, action, {parties[0]}, status).state
    assert engine.finished(state)


@given(dags())
def test_countersign_needs_all_approvers_and_any_of_needs_one(data: dict[str, Any]) -> None:
    definition = _definition(data)
    state = engine.start(definition, "assigned").state
    for _ in range(200):
        waiting = engine.waiting_for(definition, state)
        if not waiting:
            break
        key, parties = next(iter(waiting.items()))
        step = definition.step(key)
        if step.approval is Approval.SINGLE:
            status = "completed" if step.done_when_status else "assigned"
            if step.done_when_status:
                state = engine.follow_status(definition, state, status).state
            else:
                state = engine.act(
                    definition, state, key, StepAction.COMPLETE, {parties[0]}, status
                ).state
            continue
        # Someone who is all the approvers at once still approves once.
        everyone = set(step.deciders)
        state = engine.act(definition, state, key, StepAction.APPROVE, everyone, "assigned").state
        expected = StepStatus.DONE if step.approval is Approval.ANY_OF or len(step.deciders) == 1 \
            else StepStatus.ACTIVE  # fmt: skip
        assert state[key].status is expected
        for party in step.deciders[1:]:
            if state[key].status is StepStatus.DONE:
                break
            state = engine.act(
                definition, state, key, StepAction.APPROVE, {party}, "assigned"
            ).state
        assert state[key].status is StepStatus.DONE
        assert step.approval is Approval.ANY_OF or len(state[key].approved) == len(step.deciders)
    assert engine.finished(state)


@st.composite
def graphs(draw: Any) -> tuple[list[str], dict[str, list[str]]]:
    n = draw(st.integers(1, 6))
    keys = [f"s{i}" for i in range(n)]
    edges = {k: sorted(draw(st.sets(st.sampled_from(keys), max_size=3))) for k in keys}
    start = sorted(draw(st.sets(st.sampled_from(keys), min_size=1, max_size=2)))
    return start, edges


@given(graphs())
def test_save_time_checks_report_loops_and_unreachable_steps_exactly(
    graph: tuple[list[str], dict[str, list[str]]],
) -> None:
    start, edges = graph
    data = {
        "start": start,
        "steps": [
            {"key": k, "name": k, "owner": {"role": "dispatcher"}, "next": nxt}
            for k, nxt in edges.items()
        ],
    }
    _, problems = parse(data, STATUSES)
    reachable: set[str] = set()
    frontier = list(start)
    while frontier:
        key = frontier.pop()
        if key not in reachable:
            reachable.add(key)
            frontier += edges[key]
    # Kahn's algorithm on the reachable part: what cannot be ordered lies on or behind a loop.
    indegree = {k: sum(k in edges[p] for p in reachable) for k in reachable}
    ready = [k for k, d in indegree.items() if d == 0]
    ordered = 0
    while ready:
        key = ready.pop()
        ordered += 1
        for nxt in edges[key]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
    kinds = {p.kind for p in problems}
    assert (ProblemKind.LOOP in kinds) == (ordered < len(reachable))
    unreachable = {p.field for p in problems if p.kind is ProblemKind.UNREACHABLE}
    expected = {f"steps[{i}]" for i, k in enumerate(edges) if k not in reachable}
    assert unreachable == expected
