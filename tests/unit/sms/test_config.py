"""The SMS channel exists only when a provider is configured, and says what it lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.config import Config
from api.notifications.delivery import notifiers
from api.sms.notifier import SmsNotifier
from api.sms.providers import AliyunSmsProvider, TwilioSmsProvider


def config(tmp_path: Path, **sms: str) -> Config:
    env = {f"FIELDLINE_{k.upper()}": v for k, v in sms.items()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIELDLINE_DATA_DIR", str(tmp_path))
        for key, value in env.items():
            patch.setenv(key, value)
        return Config.from_env()


def test_without_a_provider_there_is_no_sms_channel(tmp_path: Path) -> None:
    channels = notifiers(config(tmp_path))
    assert not any(isinstance(c, SmsNotifier) for c in channels)


def test_a_configured_provider_is_a_channel_with_its_templates(tmp_path: Path) -> None:
    settings = config(
        tmp_path,
        sms_provider="aliyun",
        public_url="https://track.example.cn",
        sms_templates='{"zh-CN": {"assigned": "SMS_1"}}',
        sms_rate_limit="3/day",
    )
    (sms,) = [c for c in notifiers(settings) if isinstance(c, SmsNotifier)]
    assert isinstance(sms.provider, AliyunSmsProvider)
    assert sms.provider.supports("assigned", "zh-CN") and not sms.provider.supports(
        "assigned", "en"
    )
    assert sms.settings.window() == (3, 86400)
    twilio = config(tmp_path, sms_provider="Twilio", public_url="https://t.example.com")
    assert any(
        isinstance(c, SmsNotifier) and isinstance(c.provider, TwilioSmsProvider)
        for c in notifiers(twilio)
    )


@pytest.mark.parametrize(
    ("sms", "says"),
    [
        ({"sms_provider": "aliyun"}, "FIELDLINE_PUBLIC_URL"),
        ({"sms_provider": "carrier-pigeon", "public_url": "https://x.cn"}, "aliyun or twilio"),
    ],
)
def test_a_half_configured_provider_fails_at_start(
    tmp_path: Path, sms: dict[str, str], says: str
) -> None:
    with pytest.raises(ValueError, match=says):
        notifiers(config(tmp_path, **sms))
