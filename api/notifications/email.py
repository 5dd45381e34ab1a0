"""The email channel: a notification as a plain-text message over SMTP (smtplib).

Off unless ``FIELDLINE_SMTP_HOST`` is set. The ``Message-ID`` is derived from the
notification, so a mail client shows a resend (a worker that crashed after
sending) once. A 4xx answer or a lost connection is retried by the outbox; a 5xx
(the address does not exist) is final.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy.orm import Session

from api.notifications.channels import EMAIL, DeliveryFailed, Message
from api.users.models import User

log = logging.getLogger("fieldline.email")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "Fieldline <noreply@fieldline.invalid>"
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0


class EmailNotifier:
    name = EMAIL

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    def targets(self, session: Session, user: User) -> list[str]:
        if not self._settings.host or not user.email or not user.active:
            return []
        return [user.email]

    def send(self, session: Session, user: User, message: Message, target: str) -> None:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self._settings.sender, target, message.title
        mail["Message-ID"] = f"<{message.notification_id}@fieldline>"
        mail.set_content("\n\n".join(part for part in (message.title, message.body) if part))
        settings = self._settings
        try:
            with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
                if settings.starttls:
                    smtp.starttls()
                if settings.username:
                    smtp.login(settings.username, settings.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                log.warning("email refused for good", extra={"user_id": str(user.id)})
                return
            raise DeliveryFailed(f"SMTP refused the recipient for now: {codes}") from None
        except smtplib.SMTPAuthenticationError:
            raise DeliveryFailed("SMTP login refused: check FIELDLINE_SMTP_USERNAME") from None
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                log.warning("email refused for good", extra={"smtp_code": exc.smtp_code})
                return
            raise DeliveryFailed(f"SMTP answered {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"SMTP unreachable: {type(exc).__name__}") from None
