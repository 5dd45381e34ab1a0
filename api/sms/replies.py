"""Customers' replies to texts: "TD" / "退订" (and STOP) opt the number out.

On the mainland the unsubscribe convention is to reply ``TD`` (退订) to a text.
Alibaba Cloud SMS delivers replies ("uplink" messages, ``SmsUp``) by HTTP batch
push: a POST of a JSON array of ``{"phone_number", "content", "send_time",
"dest_code", "sequence_id"}`` (older pushes also carry ``sign_name``) to the one
callback URL set in its console, answered ``{"code": 0, "msg": "接收成功"}``; a
non-200 answer is pushed again. The console checks the URL with a GET that must
answer the same shape. Alibaba signs nothing in these pushes, so the URL itself
is the credential: it names the tenant and carries a secret derived from the
server's key (:func:`reply_token`), compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from api.db import UnitOfWork
from api.sms import opt_outs, phones

# What a reply must say (alone, ignoring case, width, spaces and punctuation).
OPT_OUT_WORDS = frozenset({"TD", "退订", "STOP", "UNSUBSCRIBE"})
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_TOKEN_SHAPE = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Reply:
    phone: str  # as the provider sent it (mainland numbers without +86)
    content: str


def is_opt_out(content: str) -> bool:
    """Whether a reply asks for no more texts (``TD``, ``td``, ``ＴＤ``, ``退订。``)."""
    folded = _NOISE.sub("", unicodedata.normalize("NFKC", content)).upper()
    return folded in OPT_OUT_WORDS


def reply_token(secret_key: str, tenant_id: uuid.UUID) -> str:
    """The secret in the tenant's reply callback URL (stable while the server key is)."""
    mac = hmac.new(secret_key.encode(), b"sms-replies:" + tenant_id.bytes, hashlib.sha256)
    return mac.hexdigest()[:40]


def token_matches(secret_key: str, tenant_id: uuid.UUID, token: str) -> bool:
    if not _TOKEN_SHAPE.fullmatch(token):
        return False  # compare_digest takes ASCII only
    return hmac.compare_digest(reply_token(secret_key, tenant_id), token)


def take_replies(
    uow: UnitOfWork, tenant_id: uuid.UUID, replies: Iterable[Reply], region: str
) -> int:
    """Opt out the numbers whose reply asks for it; how many replies did. A number
    that cannot be read is skipped (answering an error would only make the push repeat)."""
    asked = 0
    with uow:
        for reply in replies:
            number = phones.textable(reply.phone, region)
            if number is None or not is_opt_out(reply.content):
                continue
            opt_outs.keep(uow.session, tenant_id, number, "reply")
            asked += 1
        uow.commit()
    return asked
