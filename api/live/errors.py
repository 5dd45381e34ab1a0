"""Live stream errors. A stream's refusals are problem+json like the API's."""

from __future__ import annotations

from api.errors.base import Forbidden, TooManyRequests, Unauthenticated


class TicketInvalid(Unauthenticated):
    code = "live.ticket_invalid"
    titles = {
        "en": "The stream ticket is missing, expired or no longer valid; ask for a new one",
        "zh-CN": "实时推送凭证缺失、已过期或已失效，请重新申请",
    }


class NotForConsole(Forbidden):
    code = "live.console_forbidden"
    titles = {
        "en": "Only dispatchers and administrators signed in as themselves may watch the console",
        "zh-CN": "只有以本人身份登录的调度员和管理员可以查看调度台实时更新",
    }


class TooManyStreams(TooManyRequests):
    code = "live.too_many_streams"
    titles = {
        "en": "Too many open streams for this sign-in or link; close one and try again",
        "zh-CN": "此登录或链接打开的实时连接过多，请关闭一些后重试",
    }
