"""Wire shapes of the live-update API (the ticket a console opens its stream with)."""

from __future__ import annotations

from marshmallow import fields

from api.http.schemas import Schema, UTCDateTime


class TicketSchema(Schema):
    ticket = fields.String(
        metadata={"description": "Pass as `ticket` in the stream's query; single purpose"}
    )
    expires_at = UTCDateTime(metadata={"description": "Connect (or reconnect) before this"})
    console_url = fields.String(
        metadata={"description": "The console stream to open with `EventSource`, ticket included"}
    )
