"""``fieldline serve`` warns when login attempts would be counted per worker."""

from __future__ import annotations

import pytest

from api.http.ratelimit import per_process_warning


def test_memory_counts_with_several_workers_are_called_out() -> None:
    warning = per_process_warning("memory://", 2)
    assert warning is not None and "2 times the login limit" in warning


@pytest.mark.parametrize(
    ("uri", "workers"),
    [("memory://", 1), ("database", 8), ("redis://cache:6379", 8)],
)
def test_shared_counts_or_a_single_process_need_no_warning(uri: str, workers: int) -> None:
    assert per_process_warning(uri, workers) is None
