"""Reading a label token back out of a scanned code (api.assets.labels.token_in)."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from api.assets.labels import token_in
from api.assets.models import new_label_token

_TOKENS = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=32, max_size=32)
_HOSTS = st.sampled_from(["fieldline.example.cn", "127.0.0.1:8000", "xn--fiq228c.cn"])
_PREFIXES = st.sampled_from(["", "/service", "/a/b"])


@given(st.sampled_from(["http", "https", "HTTPS"]), _HOSTS, _PREFIXES, _TOKENS, st.booleans())
def test_the_token_of_any_label_url_is_read_back(
    scheme: str, host: str, prefix: str, token: str, slash: bool
) -> None:
    url = f"{scheme}://{host}{prefix}/r/{token}{'/' if slash else ''}"
    assert token_in(url) == token


@given(st.text(max_size=80))
def test_a_code_that_is_no_label_url_has_no_token(code: str) -> None:
    if "/r/" not in code:
        assert token_in(code) is None


def test_near_misses_are_no_labels() -> None:
    token = new_label_token()
    assert len(token) == 32 and token_in(f"https://x.cn/r/{token}") == token
    for code in (
        token,  # the bare token
        f"ftp://x.cn/r/{token}",
        f"https://x.cn/r/{token}x",  # too long
        f"https://x.cn/r/{token[:-1]}",  # too short
        f"https://x.cn/r/{token}/more",
        f"https://x.cn/q/{token}",
        f"https://x.cn/r/{token[:-1]}=",
        "https://[x.cn/r/" + token,  # no URL at all
    ):
        assert token_in(code) is None, code
