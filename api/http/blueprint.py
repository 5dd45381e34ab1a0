"""The project's ``Blueprint``: flask-smorest's, plus what every Fieldline operation shares.

Every ``/v1`` blueprint is one of these (a contract test checks), so two things
hold for every operation without anyone remembering them:

* **Errors are documented as they are answered.** Each operation lists the
  statuses it can really return, every one as ``application/problem+json``
  referencing the one ``Problem`` schema (:class:`~api.errors.problem.ProblemSchema`).
  They follow from what the operation is: 400 and 422 always (a malformed header,
  an unknown query parameter, text with NUL), 401/403 behind a permission, 404 with
  path parameters, 409 for writes, 413/415 with a body, 412/428 from
  :func:`~api.http.etag.if_match`, anything else from :meth:`Blueprint.problem`.
* **Unknown query parameters are refused** with 400
  ``request.unknown_query_parameter``, naming them in ``detail`` and in
  ``parameters``. An operation's query parameters are the ones its OpenAPI
  declares (``@blp.arguments(..., location="query")`` or ``@blp.doc(parameters=...)``),
  read from the same decorators that write the docs, so the two cannot drift.
"""

from __future__ import annotations

import http
from collections.abc import Callable, Iterable
from copy import deepcopy
from functools import wraps
from typing import Any, TypeVar

import flask_smorest
from flask import current_app, request
from webargs.flaskparser import FlaskParser, is_json_request

from api.errors.common import UnknownQueryParameter
from api.errors.problem import PROBLEM_MIMETYPE
from api.http.guard import PERMISSION_ATTR, PUBLIC

F = TypeVar("F", bound=Callable[..., Any])

PROBLEM_SCHEMA = "Problem"
DEFAULT_PROBLEM = "DEFAULT_ERROR"  # the shared response for 500 and 503
_TRAITS = "fieldline"  # what the doc callback needs to know about an operation
_PROBLEMS = "problems"  # statuses declared with Blueprint.problem, in the function's _apidoc
_BODY_METHODS = {"post", "put", "patch"}
_WRITE_METHODS = _BODY_METHODS | {"delete"}
_STANDARD_STATUSES = frozenset(status.value for status in http.HTTPStatus)  # not tus's 460


class _Parser(FlaskParser):
    """webargs' Flask parser, reading a JSON body from the request's cached parse.

    The body hook (:func:`api.http.body.read_body`) has already parsed every JSON body
    once, through the hostile-input guard, with orjson; webargs parsed it a second
    time with the standard library (1.4 ms of a 1,000-fix GPS batch). Only when
    there is no cached value (a body the hook left alone) does webargs parse itself.
    """

    def _raw_load_json(self, req: Any) -> Any:
        if is_json_request(req):
            cached = req.get_json(silent=True, cache=True)
            if cached is not None:
                return cached
        return super()._raw_load_json(req)


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's Blueprint with problem+json error docs and strict query strings."""

    ARGUMENTS_PARSER = _Parser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(_prepare_problem_doc)
        self._query_names: dict[tuple[str, str], frozenset[str]] = {}
        self.before_request(self._refuse_unknown_query)

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Any = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        super().add_url_rule(rule, endpoint, view_func, provide_automatic_options, **options)
        docs = self._docs[self._endpoints[-1]]
        for method, info in docs.items():
            if method == "parameters":
                continue
            function = _method_function(view_func, method)
            info[_TRAITS] = {
                "public": getattr(function, PERMISSION_ATTR, None) == PUBLIC,
                "path_parameters": "<" in rule,
            }

    def arguments(self, schema: Any, **kwargs: Any) -> Callable[[F], F]:
        """flask-smorest's, with a schema class made into its instance once, here.

        webargs instantiates a class on every request, which deep-copies each of its
        fields: a quarter of a millisecond for a list's query string, more than
        loading it. Loading keeps no state on the schema (marshmallow 4 has no
        ``context``), so one instance serves every request and thread; the OpenAPI
        document is the same for the class and its plain instance.
        """
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, **kwargs)  # type: ignore[no-any-return]

    @staticmethod
    def problem(status: int, description: str | None = None) -> Callable[[F], F]:
        """Document one more status the operation answers with a problem (e.g. 429 on
        login, 409 when a photo's bytes are not uploaded yet)."""

        def decorate(view: F) -> F:
            @wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return view(*args, **kwargs)

            apidoc = deepcopy(getattr(view, "_apidoc", {}))
            apidoc.setdefault(_PROBLEMS, {})[status] = description
            wrapper._apidoc = apidoc  # type: ignore[attr-defined]
            return wrapper  # type: ignore[return-value]

        return decorate

    def _refuse_unknown_query(self) -> None:
        if not request.args or request.method == "OPTIONS":
            return  # OPTIONS is no operation (CORS preflight, tus discovery)
        declared = self._declared_query(request.endpoint or "", request.method)
        unknown = sorted(set(request.args) - declared)
        if unknown:
            takes = ", ".join(sorted(declared)) or "none"
            raise UnknownQueryParameter(
                f"Unknown query parameter(s): {', '.join(unknown)}. This operation takes: {takes}",
                extra={"parameters": unknown},
            )

    def _declared_query(self, endpoint: str, method: str) -> frozenset[str]:
        key = (endpoint, method)
        if key not in self._query_names:
            view = current_app.view_functions.get(endpoint)
            function = _method_function(getattr(view, "view_class", view), method.lower())
            self._query_names[key] = frozenset(query_parameter_names(function))
        return self._query_names[key]


def query_parameter_names(function: Any) -> Iterable[str]:
    """The query parameters an operation declares, from its OpenAPI decorators."""
    apidoc = getattr(function, "_apidoc", {})
    for parameter in apidoc.get("arguments", {}).get("parameters", []):
        if parameter.get("in") not in ("query", "querystring"):
            continue
        schema = parameter["schema"]
        fields = (schema() if isinstance(schema, type) else schema).fields
        for name, field in fields.items():
            if not field.dump_only:
                yield field.data_key or name
    for parameter in apidoc.get("manual_doc", {}).get("parameters", []):
        if parameter.get("in") == "query":
            yield parameter["name"]


def _method_function(view: Any, method: str) -> Any:
    """The function that answers ``method`` (a MethodView's method, HEAD falling back
    to GET as Flask does), or a plain view function."""
    if not isinstance(view, type):
        return view
    found = getattr(view, method.lower(), None)
    if found is None and method.lower() == "head":
        found = getattr(view, "get", None)
    return found


def problem_statuses(method: str, doc_info: dict[str, Any]) -> dict[int, str | None]:
    """Every status ``method`` can answer with a problem, with a description or None
    (then the shared response of that status, in the components, describes it)."""
    traits = doc_info.get(_TRAITS, {})
    statuses: dict[int, str | None] = {400: None, 422: None}
    if not traits.get("public"):
        statuses |= {401: None, 403: None}
    if traits.get("path_parameters"):
        statuses[404] = None
    if method in _WRITE_METHODS and not traits.get("public"):
        statuses[409] = None
    if method in _BODY_METHODS:
        statuses |= {413: None, 415: None}
    if_match = doc_info.get("if_match")
    if if_match:
        statuses[412] = None
        if if_match == "required":
            statuses[428] = None
    statuses |= doc_info.get(_PROBLEMS, {})
    return dict(sorted(statuses.items()))


def _prepare_problem_doc(
    doc: dict[str, Any], doc_info: dict[str, Any], *, method: str, **_kwargs: Any
) -> dict[str, Any]:
    """flask-smorest doc callback: the operation's problems, and its ``If-Match``."""
    responses = doc.setdefault("responses", {})
    for status, description in problem_statuses(method, doc_info).items():
        existing = responses.pop(str(status), None) or responses.get(status)
        if isinstance(existing, dict):
            # Documented with a body of its own too (sync's 409 `reset_required`).
            existing.setdefault("content", {})[PROBLEM_MIMETYPE] = {"schema": problem_ref()}
            problem_text = description or SHARED_PROBLEMS.get(status, "")
            if problem_text and problem_text not in existing.get("description", ""):
                existing["description"] = (
                    f"{existing.get('description', '')}; as a problem: {problem_text}"
                )
            responses[status] = existing
        elif description is not None or status not in _STANDARD_STATUSES:
            responses[status] = {
                "description": description or f"A problem with status {status}",
                "content": {PROBLEM_MIMETYPE: {"schema": problem_ref()}},
            }
        else:
            responses[status] = http.HTTPStatus(status).name  # the shared response
    responses["default"] = DEFAULT_PROBLEM
    if doc_info.get(_TRAITS, {}).get("public"):
        doc["security"] = []  # no login: the docs must not ask for a token either
    if_match = doc_info.get("if_match")
    if if_match:
        doc.setdefault("parameters", []).append(if_match_parameter(if_match == "required"))
    return doc


def problem_ref() -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}


def if_match_parameter(required: bool) -> dict[str, Any]:
    return {
        "in": "header",
        "name": "If-Match",
        "required": required,
        "description": (
            'The `ETag` you last read, e.g. `"3"` (strong: `W/` is refused). '
            + (
                "Without it: 428 `concurrency.if_match_required`; "
                if required
                else "Optional: send it to refuse the change if the resource moved on; "
            )
            + "stale: 412 `concurrency.stale_version`."
        ),
        "schema": {"type": "string", "example": '"3"'},
    }


# What each shared error response says; the catalogue (docs/errors.md) lists every code.
SHARED_PROBLEMS: dict[int, str] = {
    400: (
        "The request cannot be read: malformed JSON (`request.malformed_json`), a header "
        "that is not valid (`request.invalid_header`), JSON nested too deeply, or query "
        "parameters this operation does not take (`request.unknown_query_parameter`, "
        "named in `parameters`)"
    ),
    401: "No valid credentials (`auth.required`, `auth.invalid_token`)",
    403: "Your role, or the API key's scopes, may not do this (`auth.forbidden`)",
    404: "Not found, or not visible to you: the two are indistinguishable",
    409: (
        "Conflicts with the current state: a duplicate, a reference still in use, a "
        "transition the status does not allow, or a concurrent update that won"
    ),
    412: (
        "`If-Match` names a version that is no longer current "
        "(`concurrency.stale_version`), or a weak ETag (`concurrency.weak_etag`)"
    ),
    413: "The body is too large (`request.too_large`)",
    415: "The body is not `application/json`, or its `Content-Encoding` is not accepted",
    422: (
        "Fields that break a rule, named in `errors` (`request.validation_failed`), "
        "text with NUL or lone surrogates (`request.text_invalid`), or a domain rule"
    ),
    428: "`If-Match` is required (`concurrency.if_match_required`)",
    429: "Too many requests: retry after `Retry-After` seconds (`request.rate_limited`)",
}


def register_problem_responses(spec: Any, schema: Any) -> None:
    """Shared error responses in the components (lazily: only those referenced appear),
    each ``application/problem+json`` with ``schema`` (the ``Problem`` schema)."""
    content = {PROBLEM_MIMETYPE: {"schema": schema}}
    for status in http.HTTPStatus:
        if status < 400:
            continue
        description = SHARED_PROBLEMS.get(status, status.phrase)
        response = {"description": description, "content": deepcopy(content)}
        spec.components.response(status.name, response, lazy=True)
    default = {
        "description": (
            "A server error: 500 `server.internal_error` (only a `trace_id`), "
            "503 `server.database_unavailable` (retry after `Retry-After`)"
        ),
        "content": deepcopy(content),
    }
    spec.components.response(DEFAULT_PROBLEM, default, lazy=True)
