"""Sign-off request and response schemas."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from api.http.schemas import Schema, UTCDateTime, text
from api.signoff.models import SealedReport, WorkOrderSignOff
from sync_protocol.mutations import MAX_CONSENT, MAX_NAME, MAX_REASON, MAX_SHORT, SignOffOutcome


class SigningFixSchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90), allow_nan=False)
    lon = fields.Float(required=True, validate=validate.Range(-180, 180), allow_nan=False)
    accuracy_m = fields.Float(validate=validate.Range(0, 100_000), allow_nan=False)


class SignOffCreateSchema(Schema):
    id = fields.UUID(metadata={"description": "Client-generated UUIDv7 (optional)"})
    outcome = fields.Enum(SignOffOutcome, by_value=True, required=True)
    signer_name = text(MAX_NAME, required=True)
    signer_role = text(MAX_SHORT)
    consent_text = text(
        MAX_CONSENT, metadata={"description": "The words shown to the signer (when signed)"}
    )
    refusal_reason = text(MAX_REASON, metadata={"description": "Why they refused (when refused)"})
    drawing = fields.Dict(
        allow_none=True,
        metadata={
            "description": "When signed: `{width, height, strokes: [[[x, y, t_ms, pressure], "
            "...], ...]}`; at most 200 strokes and 10 000 points, finite numbers on the canvas, "
            "at least 20 px of ink spanning 10 px"
        },
    )
    position = fields.Nested(SigningFixSchema, allow_none=True)

    @validates_schema
    def _by_outcome(self, data: dict[str, object], **_: object) -> None:
        signed = data.get("outcome") is SignOffOutcome.SIGNED
        wanted = {"drawing": signed, "consent_text": signed, "refusal_reason": not signed}
        for name, needed in wanted.items():
            if needed and not data.get(name):
                raise ValidationError("Missing data for required field.", name)
            if not needed and data.get(name) is not None:
                raise ValidationError("Not allowed for this outcome.", name)


class SignOffSchema(Schema):
    id = fields.UUID()
    work_order_id = fields.UUID()
    outcome = fields.String()
    signer_name = fields.String()
    signer_role = fields.String(allow_none=True)
    consent_text = fields.String(allow_none=True)
    refusal_reason = fields.String(allow_none=True)
    signature_sha256 = fields.String(
        allow_none=True, metadata={"description": "SHA-256 of the drawing; sealed in the report"}
    )
    point_count = fields.Integer()
    drawing = fields.Dict(allow_none=True)
    position = fields.Method("_position", allow_none=True)
    author_kind = fields.String()
    author_id = fields.UUID(allow_none=True)
    device_id = fields.UUID(allow_none=True)
    occurred_at = UTCDateTime(
        metadata={"description": "When it was signed (device time if synced)"}
    )
    created_at = UTCDateTime(metadata={"description": "When the server stored it"})

    def _position(self, row: WorkOrderSignOff) -> dict[str, float | None] | None:
        if row.gps_lat is None or row.gps_lon is None:
            return None
        return {"lat": row.gps_lat, "lon": row.gps_lon, "accuracy_m": row.gps_accuracy_m}


class SealCreateSchema(Schema):
    reason = text(
        MAX_REASON,
        metadata={"description": "Required to seal an amendment of a sealed report"},
    )


class SealSchema(Schema):
    algorithm = fields.String(required=True, validate=validate.Equal("Ed25519"))
    key_id = text(64, required=True)
    sha256 = text(64, required=True)
    signature = text(128, required=True, metadata={"description": "base64 of 64 bytes"})


class SealedReportSchema(Schema):
    id = fields.UUID()
    work_order_id = fields.UUID()
    version = fields.Integer()
    previous_id = fields.UUID(allow_none=True, metadata={"description": "The version amended"})
    reason = fields.String(allow_none=True)
    sealed_at = UTCDateTime()
    seal = fields.Method("_seal")
    verification_path = fields.Method(
        "_path", metadata={"description": "Public verification (printed as the report's QR)"}
    )
    pdf_sha256 = fields.String(allow_none=True, metadata={"description": "Once rendered"})

    def _seal(self, row: SealedReport) -> dict[str, str]:
        return {
            "algorithm": "Ed25519",
            "key_id": str(row.key_id),
            "sha256": row.sha256,
            "signature": row.signature,
        }

    def _path(self, row: SealedReport) -> str:
        return f"/v/{row.token}/verification"


class VerificationRequestSchema(Schema):
    report = fields.String(
        required=True,
        validate=validate.Length(min=2, max=2_000_000),
        metadata={"description": "The report's exact canonical JSON text (RFC 8785)"},
    )
    seal = fields.Nested(SealSchema, required=True)


class VerificationSchema(Schema):
    valid = fields.Boolean()
    failure = fields.String(
        allow_none=True,
        metadata={"description": "not_canonical, digest_mismatch, unknown_key, bad_signature"},
    )
    report_id = fields.UUID(allow_none=True)
    work_order_id = fields.UUID(allow_none=True)
    version = fields.Integer(allow_none=True)
    sealed_at = UTCDateTime(allow_none=True)
    superseded = fields.Boolean(metadata={"description": "A newer amendment exists"})


class PublicVerificationSchema(Schema):
    valid = fields.Boolean()
    work_order_number = fields.String()
    version = fields.Integer()
    sealed_at = UTCDateTime()
    sha256 = fields.String()
    key_id = fields.String()
    superseded = fields.Boolean(metadata={"description": "A newer amendment exists"})


class SigningKeySchema(Schema):
    id = fields.UUID(metadata={"description": "The key id named by seals"})
    algorithm = fields.String()
    public_key = fields.String(metadata={"description": "base64 of the raw 32-byte key"})
    created_at = UTCDateTime()
    retired_at = UTCDateTime(allow_none=True)


class PdfArgs(Schema):
    language = fields.String(
        validate=validate.OneOf(["zh-CN", "en"]),
        metadata={"description": "zh-CN or en; default: the tenant's language"},
    )
