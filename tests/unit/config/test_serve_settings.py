"""What `fieldline serve` hands gunicorn: workers and threads from flags or settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api import server
from api.cli import main


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """The options each would-be gunicorn got (nothing is started)."""
    seen: list[dict[str, Any]] = []

    class Recorder:
        def __init__(self, options: dict[str, Any]) -> None:
            seen.append(options)

        def run(self) -> None:
            pass

    monkeypatch.setattr(server, "_Gunicorn", Recorder)
    monkeypatch.setenv("FIELDLINE_DATA_DIR", str(tmp_path))
    for name in ("FIELDLINE_WORKERS", "FIELDLINE_THREADS", "FIELDLINE_BIND"):
        monkeypatch.delenv(name, raising=False)
    return seen


def test_one_thread_per_worker_by_default(started: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 0, result.output
    (options,) = started
    assert (options["workers"], options["worker_class"], options["threads"]) == (
        2,
        "api.http.refusals.ProblemWorker",
        1,
    )
    assert options["bind"] == "127.0.0.1:8000"


def test_settings_and_flags_choose_workers_and_threads(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDLINE_WORKERS", "5")
    monkeypatch.setenv("FIELDLINE_THREADS", "3")
    assert CliRunner().invoke(main, ["serve"]).exit_code == 0
    assert CliRunner().invoke(main, ["serve", "--workers", "7", "--threads", "2"]).exit_code == 0
    assert [(o["workers"], o["threads"]) for o in started] == [(5, 3), (7, 2)]


@pytest.mark.parametrize("flag", ["--workers", "--threads"])
def test_zero_is_refused_before_anything_starts(started: list[dict[str, Any]], flag: str) -> None:
    result = CliRunner().invoke(main, ["serve", flag, "0"])
    assert result.exit_code == 2
    assert "0 is not in the range x>=1" in result.output
    assert started == []


def test_port_picks_the_port_and_keeps_the_host(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second server next to a running one needs only `--port` (also via `./dev serve`)."""
    assert CliRunner().invoke(main, ["serve", "--port", "8081"]).exit_code == 0
    monkeypatch.setenv("FIELDLINE_BIND", "0.0.0.0:8000")
    assert CliRunner().invoke(main, ["serve", "--port", "9000"]).exit_code == 0
    assert (
        CliRunner().invoke(main, ["serve", "--bind", "[::1]:8000", "--port", "9001"]).exit_code == 0
    )
    assert [o["bind"] for o in started] == ["127.0.0.1:8081", "0.0.0.0:9000", "[::1]:9001"]


def test_quickstart_passes_the_port_on(
    started: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import cli

    monkeypatch.setattr(cli, "db_upgrade", _noop_command("upgrade"))
    monkeypatch.setattr(cli, "demo", _noop_command("demo"))
    result = CliRunner().invoke(main, ["quickstart", "--port", "8090"])
    assert result.exit_code == 0, result.output
    assert [o["bind"] for o in started] == ["127.0.0.1:8090"]


def test_a_port_outside_the_range_is_refused(started: list[dict[str, Any]]) -> None:
    assert CliRunner().invoke(main, ["serve", "--port", "70000"]).exit_code == 2
    assert started == []


def _noop_command(name: str) -> Any:
    import click

    @click.command(name)
    @click.option("--reset", is_flag=True)
    def command(reset: bool = False) -> None:
        pass

    return command
