"""The generated secret key: made once, shared by every process, never empty."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from api.config import Config


def _read_key(data_dir: str) -> str:
    return Config(data_dir=Path(data_dir)).resolved_secret_key()


def test_processes_racing_to_create_the_key_all_get_the_same_complete_key(tmp_path: Path) -> None:
    with ProcessPoolExecutor(max_workers=6) as pool:
        keys = set(pool.map(_read_key, [str(tmp_path)] * 24))
    assert len(keys) == 1
    (key,) = keys
    assert len(key) >= 48
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temp files left
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_configured_key_wins(tmp_path: Path) -> None:
    assert Config(data_dir=tmp_path, secret_key="from-env").resolved_secret_key() == "from-env"
    assert not (tmp_path / "secret_key").exists()
