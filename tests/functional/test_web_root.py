"""The server's bare address, as a newcomer opens it after `./dev serve`."""

from __future__ import annotations

from tests.support.api_client import ApiClient


def test_the_root_leads_to_the_interactive_api_docs(client: ApiClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/docs"
    docs = client.get("/", follow_redirects=True)
    assert docs.status_code == 200
    assert "swagger-ui" in docs.get_data(as_text=True)
