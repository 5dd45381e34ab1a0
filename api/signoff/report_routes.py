"""Sealed completion reports: seal, amend, read, verify; and the tenant's signing keys.

``/v/{token}/verification`` is public (the report's QR code): it says whether the
stored report still matches its seal, and never shows internal IDs or content.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView

from api.auth.permissions import Permission
from api.http.blueprint import Blueprint
from api.http.context import blob_store, new_uow, read_uow, state
from api.http.guard import current_actor, public, requires
from api.signoff import keys, pdf, sealing
from api.signoff.schemas import (
    PdfArgs,
    PublicVerificationSchema,
    SealCreateSchema,
    SealedReportSchema,
    SigningKeySchema,
    VerificationRequestSchema,
    VerificationSchema,
)

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="",
    description="Completion reports sealed with the tenant's Ed25519 key, and their verification",
)


def _secret() -> str:
    return str(state().config.resolved_secret_key())


def _public_url() -> str:
    return str(state().config.public_url or request.url_root)


@blp.route("/v1/work-orders/<uuid:work_order_id>/reports")
class WorkOrderReports(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, SealedReportSchema(many=True))
    def get(self, work_order_id: uuid.UUID) -> Any:
        """The order's sealed report versions, oldest first."""
        with read_uow() as uow:
            return sealing.list_reports(uow.session, current_actor(), work_order_id)

    @requires(Permission.WORK_ORDERS_UPDATE)
    @blp.arguments(SealCreateSchema)
    @blp.response(201, SealedReportSchema)
    @blp.problem(409, "`report.order_not_completed`, `report.already_sealed`")
    def post(self, data: dict[str, Any], work_order_id: uuid.UUID) -> Any:
        """Seal the completion report (the order must be completed or closed). A sealed
        report is never edited: with `reason`, this seals an amendment, a new version that
        names the previous one and its hash; without, a second seal is 409
        `report.already_sealed`."""
        return sealing.seal_report(
            new_uow(), current_actor(), work_order_id, data, _secret(), _public_url()
        )


@blp.route("/v1/reports/<uuid:report_id>")
class ReportView(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, SealedReportSchema)
    def get(self, report_id: uuid.UUID) -> Any:
        """One sealed report version."""
        with read_uow() as uow:
            return sealing.access_report(uow.session, current_actor(), report_id)


@blp.route("/v1/reports/<uuid:report_id>/content")
class ReportContent(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, description="The exact sealed bytes (RFC 8785 JSON)")
    def get(self, report_id: uuid.UUID) -> Any:
        """The report's exact canonical JSON: hash these bytes to check the seal."""
        with read_uow() as uow:
            row = sealing.access_report(uow.session, current_actor(), report_id)
            response = Response(row.report.encode("utf-8"), mimetype="application/json")
            response.set_etag(row.sha256)
            return response


@blp.route("/v1/reports/<uuid:report_id>/pdf")
class ReportPdf(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.arguments(PdfArgs, location="query")
    @blp.response(200, description="The PDF service report", content_type="application/pdf")
    @blp.problem(409, "`report.pdf_not_ready`: the worker has not rendered it yet")
    def get(self, args: dict[str, Any], report_id: uuid.UUID) -> Any:
        """The service report as PDF, in the tenant's language (rendered by the worker after
        sealing, stored by its SHA-256, also the `ETag`); `language` asks for another one,
        rendered on request."""
        with read_uow() as uow:
            found = pdf.open_pdf(
                uow.session,
                blob_store(),
                current_actor(),
                report_id,
                args.get("language"),
                _public_url(),
            )
        response = Response(found.data, mimetype="application/pdf")
        response.set_etag(found.sha256)
        response.headers["Content-Disposition"] = f'inline; filename="{found.filename}"'
        return response


@blp.route("/v1/reports/<uuid:report_id>/verification")
class StoredVerification(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.response(200, VerificationSchema)
    def get(self, report_id: uuid.UUID) -> Any:
        """Whether the stored report still matches its seal."""
        with read_uow() as uow:
            row = sealing.access_report(uow.session, current_actor(), report_id)
            verdict = sealing.verify_stored(uow.session, row)
            return _verification(row, verdict.valid, verdict.failure, uow.session)


@blp.route("/v1/report-verifications")
class UploadedVerification(MethodView):
    @requires(Permission.WORK_ORDERS_READ)
    @blp.arguments(VerificationRequestSchema)
    @blp.response(200, VerificationSchema)
    @blp.problem(422, "`report.seal_invalid` with `reason`")
    def post(self, data: dict[str, Any]) -> Any:
        """Check a report and seal someone showed you against this tenant's keys
        (retired keys included). Any changed byte is 422 `report.seal_invalid`."""
        with read_uow() as uow:
            checked = sealing.verify_uploaded(uow.session, current_actor(), data)
            return _verification(checked.report, True, None, uow.session)


@blp.route("/v/<string:token>/verification")
class PublicVerification(MethodView):
    @public
    @blp.doc(security=[])
    @blp.response(200, PublicVerificationSchema)
    @blp.problem(429, "`request.rate_limited`: too many checks of this report or from this address")
    def get(self, token: str) -> Any:
        """Public check behind the report's QR code: 404 `report.not_found` for an
        unknown token. Limited per token and per address (`FIELDLINE_TRACKING_RATE_LIMIT`)."""
        limiter = current_app.extensions["fieldline_tracking_limiter"]
        with read_uow() as uow:
            body = sealing.public_verification(
                uow.session, limiter, token, request.remote_addr or "unknown"
            )
        # Outside /v1 nothing else says so: a cache kept a stale "valid" after an amendment.
        return body, 200, {"Cache-Control": "no-store"}


@blp.route("/v1/signing-keys")
class SigningKeys(MethodView):
    @requires(Permission.AUDIT_READ)
    @blp.response(200, SigningKeySchema(many=True))
    def get(self) -> Any:
        """The tenant's signing keys, newest first; retired keys still verify."""
        with read_uow() as uow:
            return keys.list_keys(uow.session, current_actor())


@blp.route("/v1/signing-keys/rotation")
class SigningKeyRotation(MethodView):
    @requires(Permission.TENANT_MANAGE)
    @blp.response(201, SigningKeySchema)
    def post(self) -> Any:
        """Retire the active key and make a new one (new seals use it)."""
        return keys.rotate_key(new_uow(), current_actor(), _secret())


def _verification(row: Any, valid: bool, failure: Any, session: Any) -> dict[str, Any]:
    return {
        "valid": valid,
        "failure": failure.value if failure else None,
        "report_id": row.id if row else None,
        "work_order_id": row.work_order_id if row else None,
        "version": row.version if row else None,
        "sealed_at": row.sealed_at if row else None,
        "superseded": sealing.superseded(session, row) if row else False,
    }
