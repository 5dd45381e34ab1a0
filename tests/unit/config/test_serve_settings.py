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
    assert (options["workers"], options["worker_class"], options["threads"]) == (2, "gthread", 1)
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
