"""SMS providers: Alibaba Cloud SMS (Dysmsapi) and Twilio's Messages API, over HTTP.

An adapter takes one :class:`Sms` and returns the provider's id for it. It raises
:class:`~api.notifications.channels.DeliveryFailed` when a retry may succeed (a
timeout, a refused connection, a 5xx, a 429, throttling, an empty balance) and
:class:`SmsRefused` when it cannot (an invalid number, a missing template, a
recipient who replied STOP): the outbox retries the first, the second is recorded.

Alibaba Cloud is the default for Chinese enterprises: mainland carriers deliver
application-to-person texts only under a registered signature (签名) and
pre-approved templates (模板), which Dysmsapi manages, so the app sends a template
code and its parameters, never free text. Twilio sends the rendered text of
:mod:`api.sms.texts` and suits numbers outside the mainland.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

import requests

from api.notifications.channels import DeliveryFailed

log = logging.getLogger("fieldline.sms")

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com"
TWILIO_ENDPOINT = "https://api.twilio.com"


@dataclass(frozen=True)
class Sms:
    """One text to one number: ``kind`` and ``params`` for template providers,
    ``text`` (the same words rendered) for the others."""

    to: str  # E.164
    kind: str
    locale: str
    params: dict[str, str]
    text: str
    reference: str  # our id, echoed in the provider's delivery reports


class SmsRefused(Exception):
    """The provider refused for good; ``code`` is its reason, ``opted_out`` whether the
    recipient asked not to be texted (the number is then added to the opt-outs)."""

    def __init__(self, code: str, opted_out: bool = False) -> None:
        super().__init__(code)
        self.code, self.opted_out = code, opted_out


class SmsProvider(Protocol):
    name: str

    def supports(self, kind: str, locale: str) -> bool:
        """Whether this provider can send ``kind`` in ``locale`` (a template exists)."""
        ...

    def send(self, sms: Sms) -> str:
        """Send; the provider's message id. Raises DeliveryFailed or SmsRefused."""
        ...


@dataclass(frozen=True)
class ProviderSettings:
    endpoint: str = ""
    key_id: str = ""
    key_secret: str = ""
    sender: str = ""  # Aliyun: the signature (SignName); Twilio: a number or MG... service
    # Aliyun template codes by locale and kind: {"zh-CN": {"assigned": "SMS_1"}}
    templates: dict[str, dict[str, str]] = field(default_factory=dict)
    timeout: float = 10.0


def open_provider(name: str, settings: ProviderSettings) -> SmsProvider:
    if name == "aliyun":
        return AliyunSmsProvider(settings)
    if name == "twilio":
        return TwilioSmsProvider(settings)
    raise ValueError(f"FIELDLINE_SMS_PROVIDER={name!r}: use aliyun or twilio")


# Dysmsapi codes worth retrying: its own faults, throttling, an account to top up.
_ALIYUN_TRANSIENT = ("isp.", "Throttling", "ServiceUnavailable", "InternalError")
_ALIYUN_TRANSIENT_CODES = {"isv.BUSINESS_LIMIT_CONTROL", "isv.AMOUNT_NOT_ENOUGH"}


class AliyunSmsProvider:
    """``SendSms`` (API version 2017-05-25), signed with signature version 1.0
    (HMAC-SHA1 over the sorted, percent-encoded parameters)."""

    name = "aliyun"

    def __init__(self, settings: ProviderSettings) -> None:
        self._settings = settings
        self._http = requests.Session()

    def supports(self, kind: str, locale: str) -> bool:
        return bool(self._settings.templates.get(locale, {}).get(kind))

    def send(self, sms: Sms) -> str:
        settings = self._settings
        template = settings.templates.get(sms.locale, {}).get(sms.kind)
        if not template:
            raise SmsRefused("sms.no_template")
        params = {
            "Action": "SendSms",
            "Version": "2017-05-25",
            "RegionId": "cn-hangzhou",
            "Format": "JSON",
            "AccessKeyId": settings.key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "PhoneNumbers": aliyun_number(sms.to),
            "SignName": settings.sender,
            "TemplateCode": template,
            "TemplateParam": json.dumps(sms.params, ensure_ascii=False, separators=(",", ":")),
            "OutId": sms.reference,
        }
        params["Signature"] = aliyun_signature(params, settings.key_secret)
        answer = _post(
            self._http,
            (settings.endpoint or ALIYUN_ENDPOINT).rstrip("/") + "/",
            params,
            settings.timeout,
        )
        body = _json(answer)
        code = str(body.get("Code") or f"http.{answer.status_code}")
        if code == "OK":
            return str(body.get("BizId") or "")
        if code.startswith(_ALIYUN_TRANSIENT) or code in _ALIYUN_TRANSIENT_CODES:
            raise DeliveryFailed(f"aliyun answered {code}")
        if answer.status_code >= 500:
            raise DeliveryFailed(f"aliyun answered {answer.status_code}")
        log.warning("sms refused for good", extra={"provider": self.name, "code": code})
        raise SmsRefused(code)


def aliyun_number(e164: str) -> str:
    """Mainland numbers as their 11 digits; others as country code and number, no '+'."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


def aliyun_signature(params: dict[str, str], secret: str) -> str:
    canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(params.items()))
    to_sign = f"POST&{_pct('/')}&{_pct(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _pct(text: str) -> str:
    return quote(text, safe="~")  # RFC 3986, as Alibaba Cloud's signature wants it


# Twilio error codes: the number cannot take texts, or the recipient replied STOP.
_TWILIO_OPTED_OUT = {21610}


class TwilioSmsProvider:
    """``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` with the rendered text."""

    name = "twilio"

    def __init__(self, settings: ProviderSettings) -> None:
        self._settings = settings
        self._http = requests.Session()
        self._http.auth = (settings.key_id, settings.key_secret)

    def supports(self, kind: str, locale: str) -> bool:
        return True

    def send(self, sms: Sms) -> str:
        settings = self._settings
        sender = settings.sender
        form = {"To": sms.to, "Body": sms.text}
        form["MessagingServiceSid" if sender.startswith("MG") else "From"] = sender
        url = (
            f"{(settings.endpoint or TWILIO_ENDPOINT).rstrip('/')}"
            f"/2010-04-01/Accounts/{quote(settings.key_id, safe='')}/Messages.json"
        )
        answer = _post(self._http, url, form, settings.timeout)
        body = _json(answer)
        if answer.status_code in (200, 201):
            return str(body.get("sid") or "")
        if answer.status_code in (401, 403, 429) or answer.status_code >= 500:
            # A login the operator must fix, throttling, Twilio's own fault: try again later.
            raise DeliveryFailed(f"twilio answered {answer.status_code}")
        code = body.get("code")
        log.warning("sms refused for good", extra={"provider": self.name, "code": code})
        raise SmsRefused(f"twilio.{code or answer.status_code}", code in _TWILIO_OPTED_OUT)


def _post(http: requests.Session, url: str, form: dict[str, str], timeout: float) -> Any:
    try:
        return http.post(url, data=form, timeout=timeout)
    except requests.RequestException as exc:
        raise DeliveryFailed(f"sms provider unreachable: {type(exc).__name__}") from None


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
