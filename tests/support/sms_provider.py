"""A local SMS provider for tests: Alibaba Cloud's ``SendSms`` and Twilio's Messages API.

:class:`FakeSmsProvider` is a small HTTP server in a thread that keeps every text
it is sent, checks the caller's credentials as the real service would (Aliyun's
signature over the parameters; Twilio's Basic auth) and answers as the test
scripts: ``ok`` (the default), ``slow`` (answer after ``slow_seconds``, past a
client's timeout), an HTTP status (``500``) or a provider error code
(``isv.MOBILE_NUMBER_ILLEGAL`` for Aliyun, ``21610`` for Twilio).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote

KEY_ID, KEY_SECRET = "LTAI-test-key", "test-secret"


@dataclass(frozen=True)
class Text:
    """One text as the provider got it: the recipient, and what it says or fills in."""

    provider: str
    to: str
    form: dict[str, str]
    signed: bool  # the credentials checked out

    @property
    def params(self) -> dict[str, str]:
        return dict(json.loads(self.form.get("TemplateParam", "{}")))


@dataclass
class FakeSmsProvider:
    texts: list[Text] = field(default_factory=list)  # every request, answered or not
    answers: deque[str | int] = field(default_factory=deque)
    slow_seconds: float = 2.0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def start(self) -> FakeSmsProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = parse_qs(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)
                form = {key: values[0] for key, values in raw.items()}
                provider._answer(self, form)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _answer(self, handler: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        twilio = handler.path.endswith("/Messages.json")
        if twilio:
            expected = base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
            signed = handler.headers.get("Authorization") == f"Basic {expected}"
            text = Text("twilio", form.get("To", ""), form, signed)
        else:
            unsigned = {k: v for k, v in form.items() if k != "Signature"}
            signed = form.get("AccessKeyId") == KEY_ID and form.get(
                "Signature"
            ) == _aliyun_signature(unsigned, KEY_SECRET)
            text = Text("aliyun", form.get("PhoneNumbers", ""), form, signed)
        self.texts.append(text)
        answer = self.answers.popleft() if self.answers else "ok"
        if answer == "slow":
            time.sleep(self.slow_seconds)
            answer = "ok"
        if not signed:
            answer = 401 if twilio else "SignatureDoesNotMatch"
        status, body = _reply(twilio, answer, next(self._ids))
        try:
            data = json.dumps(body).encode()
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting


def _reply(twilio: bool, answer: str | int, n: int) -> tuple[int, dict[str, Any]]:
    if isinstance(answer, int) and answer >= 400:
        if twilio and answer < 500 and answer not in (401, 403, 429):
            return answer, {"code": 21211, "message": "invalid", "status": answer}
        return answer, {"message": "scripted failure"}
    if twilio:
        if answer == "ok":
            return 201, {"sid": f"SM{n:032d}", "status": "queued"}
        return 400, {"code": int(answer), "message": "scripted", "status": 400}
    if answer == "ok":
        return 200, {"Code": "OK", "Message": "OK", "BizId": f"{n}^0", "RequestId": str(n)}
    return 200, {"Code": str(answer), "Message": "scripted", "RequestId": str(n)}


def _aliyun_signature(params: dict[str, str], secret: str) -> str:
    """Alibaba Cloud's RPC signature 1.0, written out here apart from the app's: HMAC-SHA1
    with ``secret&`` over ``POST&%2F&`` and the sorted, RFC 3986-encoded parameters."""

    def encode(text: str) -> str:
        return quote(text, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")

    canonical = "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()))
    to_sign = "POST&" + encode("/") + "&" + encode(canonical)
    digest = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()
