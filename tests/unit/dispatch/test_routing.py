"""Travel times from an OSRM-compatible engine, and the straight line when it fails.

The engine is a local fake that speaks OSRM's ``route`` and ``table`` services over
real HTTP (their URL shapes, ``code``, ``routes[].duration`` and ``distance``, the
``durations``/``distances`` matrices with ``null`` for no route)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from dispatch.routing import OsrmRouter, StraightLine

PEOPLES_SQUARE = (31.2304, 121.4737)
LUJIAZUI = (31.2397, 121.4998)


class FakeOsrm:
    def __init__(self) -> None:
        self.mode = "ok"
        self.seen: list[str] = []
        self.table: list[float | None] = []  # seconds per source, None: no route

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.seen.append(request.full_path)
        parts = request.path.split("/")  # /route/v1/driving/lon,lat;lon,lat
        if parts[1:4] == ["table", "v1", "driving"] and self.mode == "ok":
            return self._table(request, parts[4])(environ, start_response)
        if parts[1:4] != ["route", "v1", "driving"] or request.args.get("overview") != "false":
            body, status = {"code": "InvalidUrl"}, 400
        elif self.mode == "slow":
            time.sleep(1.5)
            body, status = {"code": "Ok", "routes": [{"duration": 1, "distance": 1}]}, 200
        elif self.mode == "no_route":
            body, status = {"code": "NoRoute", "routes": []}, 200
        elif self.mode == "broken":
            return Response("<html>bad gateway</html>", 502)(environ, start_response)
        else:
            (lon1, lat1), (lon2, lat2) = (map(float, p.split(",")) for p in parts[4].split(";"))
            assert (round(lat1, 4), round(lon1, 4)) == PEOPLES_SQUARE
            assert (round(lat2, 4), round(lon2, 4)) == LUJIAZUI
            body = {"code": "Ok", "routes": [{"duration": 754.3, "distance": 4321.0}]}
            status = 200
        return Response(json.dumps(body), status, mimetype="application/json")(
            environ, start_response
        )

    def _table(self, request: Request, points: str) -> Response:
        count = len(points.split(";"))
        sources = [int(i) for i in request.args["sources"].split(";")]
        assert request.args["destinations"] == "0" and sources == list(range(1, count))
        rows = [[s] for s in self.table]
        body = {
            "code": "Ok",
            "durations": rows,
            "distances": [[None if s is None else s * 8.0] for s in self.table],
        }
        return Response(json.dumps(body), 200, mimetype="application/json")


@pytest.fixture
def osrm() -> Iterator[tuple[FakeOsrm, str]]:
    fake = FakeOsrm()
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_a_routing_engine_gives_the_time_by_road(osrm: tuple[FakeOsrm, str]) -> None:
    fake, url = osrm
    leg = OsrmRouter(url).travel(PEOPLES_SQUARE, LUJIAZUI)
    assert (leg.seconds, leg.metres, leg.source) == (780, 4321.0, "osrm")  # rounded up a minute
    assert fake.seen[0].startswith("/route/v1/driving/121.473700,31.230400;121.499800,")


@pytest.mark.parametrize("mode", ["no_route", "broken", "slow"])
def test_when_the_engine_cannot_answer_the_straight_line_does(
    osrm: tuple[FakeOsrm, str], mode: str
) -> None:
    fake, url = osrm
    fake.mode = mode
    leg = OsrmRouter(url, timeout=0.5).travel(PEOPLES_SQUARE, LUJIAZUI)
    assert leg == StraightLine().travel(PEOPLES_SQUARE, LUJIAZUI)
    assert leg.source == "urban_driving"


def test_an_engine_that_is_not_there_falls_back_too() -> None:
    leg = OsrmRouter("http://127.0.0.1:9", timeout=0.5).travel(PEOPLES_SQUARE, LUJIAZUI)
    assert leg.source == "urban_driving" and leg.seconds > 0


def test_a_table_request_gives_every_origins_time_and_a_missing_cell_falls_back(
    osrm: tuple[FakeOsrm, str],
) -> None:
    fake, url = osrm
    fake.table = [600.0, None, 61.0]
    origins = [PEOPLES_SQUARE, (31.25, 121.45), (31.24, 121.49)]
    legs = OsrmRouter(url).travel_from(origins, LUJIAZUI)
    assert [(leg.seconds, leg.source) for leg in legs] == [
        (600, "osrm"), (StraightLine().travel(origins[1], LUJIAZUI).seconds, "urban_driving"),
        (120, "osrm")]  # fmt: skip
    assert len(fake.seen) == 1 and fake.seen[0].startswith("/table/v1/driving/121.499800,")


def test_a_table_the_engine_cannot_answer_is_the_straight_line(
    osrm: tuple[FakeOsrm, str],
) -> None:
    fake, url = osrm
    fake.mode = "broken"
    legs = OsrmRouter(url).travel_from([PEOPLES_SQUARE], LUJIAZUI)
    assert legs == StraightLine().travel_from([PEOPLES_SQUARE], LUJIAZUI)
