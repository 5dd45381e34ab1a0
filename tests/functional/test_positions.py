"""GPS fixes from devices: late, out of order, resent, hostile; and the trail they make."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import gpxpy
import pytest
from sqlalchemy import Engine, func, insert, select, text, update

from api.db import UnitOfWorkFactory, utcnow
from api.location import services
from api.location.models import Position
from api.workorders.states import Status
from tests.conftest import backend
from tests.support.api_client import ApiClient, assert_problem
from tests.support.factories import Factories
from tests.support.positions import ALWAYS, LAT, LON, Tracked, fix


@pytest.fixture
def tracked(client: ApiClient, factories: Factories, engine: Engine) -> Tracked:
    return Tracked(client, factories, engine, working_hours=ALWAYS)


def test_a_batch_out_of_order_is_kept_in_time_order_and_the_newest_is_current(
    tracked: Tracked,
) -> None:
    body = tracked.send(fix(10, 300), fix(30, 0), fix(20, 150))
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (3, 0, [])
    assert body["current"]["lon"] == pytest.approx(LON + 300 / 95_000)

    line = tracked.trail(tolerance_m=0).get_json()["features"][0]
    lons = [lon for lon, _ in line["geometry"]["coordinates"]]
    assert lons == sorted(lons)  # walking east: time order is west to east


def test_a_resent_batch_is_answered_alike_and_stored_once(tracked: Tracked, engine: Engine) -> None:
    batch = [fix(3, 0), fix(2, 60), fix(1, 120)]
    tracked.send(*batch)
    again = tracked.send(*batch)
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Position)) == 3


def test_a_late_batch_of_old_fixes_fills_the_trail_but_never_moves_the_technician_back(
    tracked: Tracked,
) -> None:
    now = tracked.send(fix(1, 500))["current"]
    late = tracked.send(fix(50, 0), fix(40, 100), fix(30, 200))
    assert late["accepted"] == 3
    assert late["current"] == now
    location = tracked.admin.get(f"/v1/technicians/{tracked.technician.id}/location")
    assert location.get_json()["fixed_at"] == now["fixed_at"]
    assert tracked.trail(tolerance_m=0).get_json()["features"][0]["properties"]["fixes"] == 4


def test_bad_fixes_are_refused_one_by_one_and_the_good_ones_kept(tracked: Tracked) -> None:
    body = tracked.send(
        fix(5, 0),
        {**fix(4), "lat": 91},
        {**fix(4), "lon": -180.5},
        {**fix(4), "lat": "north"},
        fix(3, 0, accuracy_m=2500),
        fix(-60),  # an hour in the future: the device's clock is wrong
        fix(60 * 24 * 400),  # before the technician existed, and past retention
        {"lat": LAT, "lon": LON},  # no time
        "not a fix",
        fix(2, 100),
    )
    codes = {item["index"]: item["code"] for item in body["rejected"]}
    assert codes == {
        1: "location.invalid_fix",
        2: "location.invalid_fix",
        3: "location.invalid_fix",
        4: "location.inaccurate",
        5: "location.fix_in_future",
        6: "location.fix_too_old",
        7: "location.invalid_fix",
        8: "location.invalid_fix",
    }
    assert body["accepted"] == 2


def test_a_jump_no_vehicle_could_make_is_refused(tracked: Tracked) -> None:
    body = tracked.send(fix(10, 0), fix(9.9, 50_000), fix(9, 400))  # 50 km in 6 s
    assert [item["code"] for item in body["rejected"]] == ["location.implausible_speed"]
    assert body["rejected"][0]["index"] == 1
    assert body["accepted"] == 2


def test_a_jump_is_judged_from_the_stored_fix_before_it_whatever_batch_brought_that(
    tracked: Tracked,
) -> None:
    assert tracked.send(fix(20, 0), fix(10, 300))["accepted"] == 2
    # After the stored trail, and inside its span: each judged from the stored fix before.
    body = tracked.send(fix(9.9, 50_000), fix(15, 40_000), fix(9, 400))
    assert [(item["index"], item["code"]) for item in body["rejected"]] == [
        (0, "location.implausible_speed"),
        (1, "location.implausible_speed"),
    ]
    assert body["accepted"] == 1


def test_a_new_devices_first_batch_registers_it_and_older_fixes_are_not_its_own(
    tracked: Tracked,
) -> None:
    fresh, first = str(uuid.uuid4()), fix(5)
    response = tracked.api.post(
        "/v1/sync/positions", {"device_id": fresh, "fixes": [first, fix(30), fix(1)]}
    )
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["accepted"] == 2  # a fix from before its first sync, by more than 10 minutes
    assert [(item["index"], item["code"]) for item in body["rejected"]] == [
        (1, "location.fix_too_old")
    ]
    assert body["current"]["device_id"] == fresh
    again = tracked.api.post("/v1/sync/positions", {"device_id": fresh, "fixes": [first]})
    assert (again.get_json()["accepted"], again.get_json()["duplicates"]) == (0, 1)


def test_off_duty_a_technician_is_not_tracked_but_on_a_job_they_are(
    client: ApiClient, factories: Factories, engine: Engine
) -> None:
    tracked = Tracked(client, factories, engine)  # no working hours
    body = tracked.send(fix(5))
    assert [item["code"] for item in body["rejected"]] == ["location.off_duty"]

    order = factories.work_order(tracked.world)
    factories.advance(tracked.world, order, Status.EN_ROUTE, tracked.technician)
    assert tracked.send(fix(0))["accepted"] == 1
    assert tracked.send(fix(5))["rejected"][0]["code"] == "location.off_duty"  # before leaving


def test_more_than_a_thousand_fixes_is_refused_whole(tracked: Tracked) -> None:
    response = tracked.api.post(
        "/v1/sync/positions",
        {"device_id": tracked.device, "fixes": [fix(1)] * 1001},
    )
    assert_problem(response, 422, "location.batch_too_large")


def test_only_the_devices_own_login_may_send_for_it(
    tracked: Tracked, factories: Factories, client: ApiClient
) -> None:
    tracked.send(fix(1))
    _, _, colleague_token = factories.technician_user(tracked.world, working_hours=ALWAYS)
    response = client.as_(colleague_token).post(
        "/v1/sync/positions", {"device_id": tracked.device, "fixes": [fix(0.5)]}
    )
    assert_problem(response, 403, "sync.device_mismatch")


def test_an_office_login_has_no_position_to_send(tracked: Tracked) -> None:
    response = tracked.admin.post("/v1/positions", {"fixes": [fix(1)]})
    assert_problem(response, 403, "location.not_a_technician")


def test_the_direct_endpoint_follows_the_same_rules(tracked: Tracked) -> None:
    resent = fix(1, 50)
    response = tracked.api.post("/v1/positions", {"fixes": [fix(2), resent, dict(resent)]})
    body = response.get_json()
    assert response.status_code == 200
    assert (body["accepted"], body["duplicates"]) == (2, 1)


def test_the_trail_is_measured_with_its_stops_and_exports_to_gpx(tracked: Tracked) -> None:
    # Parked for 10 minutes, then 1 km east in 2 minutes.
    parked = [fix(20 - minute, 0, accuracy_m=5) for minute in range(11)]
    drive = [fix(9.5 - step / 4, step * 125, accuracy_m=5) for step in range(1, 9)]
    tracked.send(*parked, *drive)

    collection = tracked.trail().get_json()
    line, *stops = collection["features"]
    assert collection["type"] == "FeatureCollection"
    assert line["properties"]["distance_m"] == pytest.approx(1000, rel=0.02)
    assert len(line["geometry"]["coordinates"]) < line["properties"]["fixes"]  # simplified
    assert [stop["properties"]["minutes"] for stop in stops] == [pytest.approx(10, abs=0.5)]

    gpx = gpxpy.parse(tracked.trail(format="gpx").get_data(as_text=True))
    points = gpx.tracks[0].segments[0].points
    assert points[0].longitude == pytest.approx(LON)
    assert len(gpx.waypoints) == 1


def test_trails_stay_with_the_office_and_their_own_technician(
    tracked: Tracked, factories: Factories, client: ApiClient
) -> None:
    tracked.send(fix(1))
    path = f"/v1/technicians/{tracked.technician.id}/location"
    assert tracked.api.get(path).status_code == 200
    _, _, colleague_token = factories.technician_user(tracked.world)
    assert_problem(client.as_(colleague_token).get(path), 404, "technician.not_found")
    stranger = factories.tenant()
    assert_problem(client.as_(stranger.admin_token).get(path), 404, "technician.not_found")


def test_the_retention_purge_deletes_only_old_fixes_of_every_technician(
    tracked: Tracked,
    client: ApiClient,
    factories: Factories,
    engine: Engine,
    uow_factory: UnitOfWorkFactory,
) -> None:
    other = Tracked(client, factories, engine, working_hours=ALWAYS)  # another tenant
    for who in (tracked, other):
        who.send(*[fix(30 - minute, minute * 10) for minute in range(12)])
    with engine.begin() as connection:  # each one's first six, a hundred days older
        for who in (tracked, other):
            old = connection.scalars(
                select(Position.fixed_at)
                .where(Position.technician_id == who.technician.id)
                .order_by(Position.fixed_at)
                .limit(6)
            )
            for fixed_at in list(old):
                connection.execute(
                    update(Position)
                    .where(
                        Position.technician_id == who.technician.id,
                        Position.fixed_at == fixed_at,
                    )
                    .values(fixed_at=fixed_at - timedelta(days=100))
                )
    purged = services.purge_positions(uow_factory, utcnow() - timedelta(days=90))
    assert purged == 12
    with engine.connect() as connection:
        kept = connection.execute(
            select(Position.technician_id, func.count(), func.min(Position.fixed_at))
            .group_by(Position.technician_id)
        ).all()  # fmt: skip
    assert {row[0]: row[1] for row in kept} == {
        tracked.technician.id: 6,
        other.technician.id: 6,
    }
    assert services.purge_positions(uow_factory, utcnow() - timedelta(days=90)) == 0


def test_a_purge_batch_reads_a_range_of_the_trail_index(tracked: Tracked, engine: Engine) -> None:
    """Not a scan for old fix times (which no index leads with): each batch would read
    again what the batches before it emptied."""
    keys = services.purge_batch_keys(
        tracked.world.tenant_id, tracked.technician.id, utcnow() - timedelta(days=90)
    )
    compiled = keys.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.begin() as connection:
        if backend() == "postgresql":
            connection.execute(text("SET LOCAL enable_seqscan = off"))  # tiny table
            plan = connection.scalars(text(f"EXPLAIN {compiled}")).all()
        else:
            plan = [row[3] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    text_plan = "\n".join(plan)
    assert "ix_technician_positions_trail" in text_plan
    assert "technician_id" in text_plan  # a range, not a walk of the whole index


def test_a_fix_time_is_read_as_an_aware_utc_time(tracked: Tracked) -> None:
    naive = {**fix(1), "fixed_at": datetime.now(UTC).replace(tzinfo=None).isoformat()}
    body = tracked.send(naive)
    assert body["rejected"][0]["code"] == "location.invalid_fix"


@pytest.mark.skipif(backend() != "postgresql", reason="concurrent writers: PostgreSQL")
def test_a_fix_stored_by_a_concurrent_request_meanwhile_is_skipped_not_an_error(
    tracked: Tracked, engine: Engine
) -> None:
    """The batch's checks cannot see a resend that another request has not committed
    yet; when it commits first, this batch's fast COPY meets the taken key and the
    batch is stored again fix by fix, skipping that one."""
    batch = [fix(3, 0), fix(2, 60), fix(1, 120)]
    taken = datetime.fromisoformat(batch[1]["fixed_at"])
    answers: list[dict[str, Any]] = []
    with engine.connect() as other:
        other.execute(
            insert(Position).values(
                tenant_id=tracked.world.tenant_id,
                device_id=tracked.device,
                fixed_at=taken,
                technician_id=tracked.technician.id,
                lat=LAT,
                lon=LON,
                accuracy_m=8.0,
                received_at=utcnow(),
            )
        )
        sender = threading.Thread(target=lambda: answers.append(tracked.send(*batch)))
        sender.start()
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        with engine.connect() as watcher:
            for _ in range(600):  # until the batch waits on the uncommitted key
                if watcher.scalar(text(waiting)):
                    break
                watcher.rollback()  # pg_stat_activity is read once per transaction
                time.sleep(0.05)
        other.commit()
        sender.join(timeout=60)
    assert answers and answers[0]["accepted"] == 3
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Position)) == 3


def test_nan_and_infinity_are_refused_per_fix_and_the_rest_kept(tracked: Tracked) -> None:
    good = fix(2, 0)
    body = (
        f'{{"device_id": "{tracked.device}", "fixes": ['
        f'{{"fixed_at": "{good["fixed_at"]}", "lat": NaN, "lon": {LON}}}, '
        f'{{"fixed_at": "{fix(1)["fixed_at"]}", "lat": {LAT}, "lon": -Infinity}}, '
        f'{{"fixed_at": "{good["fixed_at"]}", "lat": {LAT}, "lon": {LON}}}]}}'
    )
    response = tracked.api.post(
        "/v1/sync/positions", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["accepted"] == 1
    assert [(item["index"], item["code"]) for item in answer["rejected"]] == [
        (0, "location.invalid_fix"),
        (1, "location.invalid_fix"),
    ]


def test_a_trail_asked_for_backwards_or_over_a_month_is_refused(tracked: Tracked) -> None:
    tracked.send(fix(10, 0))
    now = utcnow()

    def stamp(at: datetime) -> str:
        return at.isoformat().replace("+00:00", "Z")

    backwards = tracked.trail(**{"from": stamp(now), "to": stamp(now - timedelta(hours=1))})
    problem = assert_problem(backwards, 422, "request.validation_failed")
    assert problem["errors"][0]["field"] == "to"
    assert problem["errors"][0]["code"] == "end_not_after_start"
    ages = tracked.trail(**{"from": "0001-01-01T00:00:00Z", "to": stamp(now)})
    problem = assert_problem(ages, 422, "request.validation_failed")
    assert (problem["errors"][0]["field"], problem["errors"][0]["code"]) == (
        "to",
        "window_too_long",
    )
    month = tracked.trail(**{"from": stamp(now - timedelta(days=31)), "to": stamp(now)})
    assert month.status_code == 200
