"""The server's bare address, as a newcomer opens it after `./dev serve`."""

from __future__ import annotations

from tests.support.api_client import ApiClient


def test_the_root_is_a_landing_page_that_leads_to_each_place(client: ApiClient) -> None:
    response = client.get("/", headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert 'href="/docs"' in page  # developers: the interactive API docs
    assert 'action="/t"' in page  # customers: follow a repair by its link or code
    assert "Report a fault" in page


def test_the_interactive_api_docs_stay_at_docs(client: ApiClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.get_data(as_text=True)


def test_a_pasted_tracking_link_or_code_opens_its_page(client: ApiClient) -> None:
    code = "A" * 32
    for pasted in (code, f"https://fieldline.example/t/{code}", f"  /t/{code}/ "):
        response = client.get("/t", query_string={"code": pasted})
        assert response.status_code == 303
        assert response.headers["Location"] == f"/t/{code}"
    refused = client.get("/t", query_string={"code": "not a code"})
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.get_data(as_text=True)
