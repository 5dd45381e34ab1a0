"""The SMS channel behind the notifier port, and its configuration.

:class:`SmsNotifier` is a :class:`~api.notifications.channels.Notifier` like Web
Push and email, offered by :func:`api.notifications.delivery.notifiers` only when
``FIELDLINE_SMS_PROVIDER`` names a provider (nothing is sent otherwise). People
with an account are reached in the app, by push and by email, so it names no
target for them: what it texts is a customer's order, by the order's customer
phone (:mod:`api.sms.orders`), which finds it among the channels as the tracking
page's push finds the Web Push channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import parse
from sqlalchemy.orm import Session

from api.notifications.channels import Message
from api.sms import texts
from api.sms.providers import ProviderSettings, Sms, SmsProvider, open_provider
from api.users.models import User


@dataclass(frozen=True)
class SmsSettings:
    provider: str  # aliyun | twilio
    public_url: str  # where the texted tracking links point
    provider_settings: ProviderSettings
    default_region: str = "CN"
    rate_limit: str = "5/hour"  # texts per number and tenant
    max_attempts: int = 5  # a transient failure is retried this many times in all
    sender_name: str = ""  # how a rendered text names its sender; "": the tenant's name

    def window(self) -> tuple[int, int]:
        """The per-number limit as (count, seconds)."""
        item = parse(self.rate_limit)
        return item.amount, item.get_expiry()


class SmsNotifier:
    name = "sms"

    def __init__(self, settings: SmsSettings, provider: SmsProvider | None = None) -> None:
        if not settings.public_url:
            raise ValueError("FIELDLINE_SMS_PROVIDER needs FIELDLINE_PUBLIC_URL: texts carry links")
        settings.window()  # a malformed FIELDLINE_SMS_RATE_LIMIT fails at start, not at send
        self.settings = settings
        self.provider = provider or open_provider(settings.provider, settings.provider_settings)

    def targets(self, session: Session, user: User) -> list[str]:
        return []

    def send(self, session: Session, user: User, message: Message, target: str) -> None:
        params = {"sender": self.settings.sender_name or "Fieldline", "title": message.title}
        locale = texts.locale_of(user.locale)
        self.text(
            Sms(
                to=target,
                kind=texts.NOTICE,
                locale=locale,
                params=params,
                text=texts.render(texts.NOTICE, locale, params),
                reference=str(message.notification_id),
            )
        )

    def text(self, sms: Sms) -> str:
        """Send one text; the provider's id. Raises DeliveryFailed or SmsRefused."""
        return self.provider.send(sms)
