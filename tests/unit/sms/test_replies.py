"""Which replies ask for no more texts, and the reply address's secret."""

from __future__ import annotations

import uuid

import pytest

from api.sms import replies


@pytest.mark.parametrize("content", ["TD", "td", " Td ", "ＴＤ", "退订", "退订。", "STOP", "stop!"])
def test_the_unsubscribe_replies_are_understood(content: str) -> None:
    assert replies.is_opt_out(content)


@pytest.mark.parametrize("content", ["", "好的", "TD是什么", "不要退订", "谢谢师傅", "STOPPED"])
def test_other_replies_are_not_opt_outs(content: str) -> None:
    assert not replies.is_opt_out(content)


def test_the_reply_secret_is_per_tenant_and_per_server_key() -> None:
    tenant, other = uuid.uuid4(), uuid.uuid4()
    token = replies.reply_token("key-one", tenant)
    assert replies.token_matches("key-one", tenant, token)
    assert not replies.token_matches("key-one", other, token)
    assert not replies.token_matches("key-two", tenant, token)


@pytest.mark.parametrize("token", ["", "TD", "cut\ud83d", "é" * 40])
def test_a_malformed_reply_secret_simply_does_not_match(token: str) -> None:
    assert not replies.token_matches("key-one", uuid.uuid4(), token)
