"""The tracking page's pure rules: names, link lifetimes, and the timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.tracking import rules
from api.tracking.rules import OrderFacts, Step
from api.workorders.states import Status
from dispatch import eta

T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("name", "name_en", "language", "shown"),
    [
        ("张伟", "Wei Zhang", "zh-CN", "张师傅"),
        ("欧阳修文", None, "zh-CN", "欧阳师傅"),
        ("李师傅", None, "zh-CN", "李师傅"),  # as some offices enter them
        ("李", None, "zh-CN", "李师傅"),
        ("Anna Schmidt", None, "zh-CN", "Anna"),
        ("张伟", "Wei Zhang", "en", "Wei"),
        ("张伟", None, "en", "伟"),
        ("王小明", "", "en", "小明"),
        ("Ahmed", None, "en", "Ahmed"),
        ("李", None, "en", None),  # a surname alone is no given name
        ("李师傅", None, "en", None),
    ],
)
def test_the_customer_never_sees_the_full_name(
    name: str, name_en: str | None, language: str, shown: str | None
) -> None:
    """Chinese: the surname and 师傅, as customers address a technician there;
    English: the given name only."""
    assert rules.addressed_as(name, name_en, language) == shown


def test_a_link_lives_thirty_days_or_two_weeks_after_the_order_ends() -> None:
    made = T0 + rules.LINK_LIFETIME
    assert rules.expiry(made, None, None, None) == made
    assert rules.expiry(made, _at(60), None, None) == _at(60) + timedelta(days=14)
    assert rules.expiry(made, None, None, _at(5)) == _at(5) + timedelta(days=14)
    late = T0 + timedelta(days=25)
    assert rules.expiry(made, late, late, None) == made  # never past its own limit


def _facts(status: Status, *history: tuple[Status | None, Status, int], **kw: object) -> OrderFacts:
    return OrderFacts(
        status=status,
        created_at=T0,
        scheduled_start=kw.get("scheduled_start"),  # type: ignore[arg-type]
        history=tuple((frm, to, _at(m)) for frm, to, m in history),
        report_sealed_at=kw.get("report_sealed_at"),  # type: ignore[arg-type]
        rated_at=kw.get("rated_at"),  # type: ignore[arg-type]
    )


def _done(facts: OrderFacts) -> dict[Step, datetime | None]:
    return {step.key: step.occurred_at for step in rules.timeline(facts) if step.done}


def test_an_order_sent_back_to_new_shows_the_technician_step_pending_again() -> None:
    facts = _facts(
        Status.NEW,
        (None, Status.NEW, 0),
        (Status.NEW, Status.ASSIGNED, 5),
        (Status.ASSIGNED, Status.NEW, 9),  # declined
    )
    assert _done(facts) == {Step.RECEIVED: _at(0)}


def test_a_reassigned_order_shows_the_latest_assignment() -> None:
    facts = _facts(
        Status.ASSIGNED,
        (None, Status.NEW, 0),
        (Status.NEW, Status.ASSIGNED, 5),
        (Status.ASSIGNED, Status.NEW, 9),
        (Status.NEW, Status.ASSIGNED, 20),
    )
    assert _done(facts)[Step.TECHNICIAN_ASSIGNED] == _at(20)


def test_a_cancelled_order_keeps_the_steps_it_had_reached() -> None:
    facts = _facts(
        Status.CANCELLED,
        (None, Status.NEW, 0),
        (Status.NEW, Status.ASSIGNED, 5),
        (Status.ASSIGNED, Status.EN_ROUTE, 10),
        (Status.EN_ROUTE, Status.CANCELLED, 12),
    )
    assert set(_done(facts)) == {Step.RECEIVED, Step.TECHNICIAN_ASSIGNED, Step.ON_THE_WAY}


def test_a_report_counts_only_for_finished_work_and_a_rating_whenever_given() -> None:
    reopened = _facts(Status.IN_PROGRESS, (None, Status.NEW, 0), report_sealed_at=_at(50))
    assert Step.REPORT_READY not in _done(reopened)
    done = _facts(
        Status.COMPLETED,
        (None, Status.NEW, 0),
        (Status.IN_PROGRESS, Status.COMPLETED, 40),
        report_sealed_at=_at(50),
        rated_at=_at(70),
        scheduled_start=_at(30),
    )
    steps = _done(done)
    assert steps[Step.WORK_DONE] == _at(40)
    assert steps[Step.REPORT_READY] == _at(50) and steps[Step.RATED] == _at(70)
    assert Step.SCHEDULED in steps and steps[Step.SCHEDULED] is None
    assert rules.current_step(rules.timeline(done)) is Step.RATED


@given(st.sampled_from(list(Status)))
def test_every_status_gives_all_eight_steps_in_order(status: Status) -> None:
    steps = rules.timeline(_facts(status, (None, Status.NEW, 0)))
    assert [step.key for step in steps] == list(Step)
    assert steps[0].done  # received, whatever happened since


def test_both_languages_title_every_step() -> None:
    for step in Step:
        assert set(rules.TITLES[step]) == set(rules.LANGUAGES)


def test_the_eta_stretches_the_straight_line_and_rounds_up_to_the_minute() -> None:
    near = eta.estimate(31.2304, 121.4737, 31.2304, 121.4737 + 0.001)  # ~95 m
    assert near.seconds == 60
    far = eta.estimate(31.2304, 121.4737, 31.2304 + 0.09, 121.4737)  # ~10 km north
    assert far.distance_m == pytest.approx(10_007, rel=0.01)
    # 10 km × 1.3 at 25 km/h is 31.2 minutes: 32.
    assert far.seconds == 32 * 60
    assert eta.estimate(31.0, 121.0, 31.0, 121.0).seconds == 0
