"""``/v1/technicians/{id}/photo``: a technician's profile photo (thin views)."""

from __future__ import annotations

import uuid
from typing import Any

from flask.views import MethodView

from api.auth.permissions import Permission
from api.evidence.photo_routes import linker
from api.http.blueprint import Blueprint
from api.http.body import body_bytes, body_policy
from api.http.context import blob_store, new_uow, read_uow
from api.http.guard import current_actor, requires
from api.technicians import photos
from api.technicians.schemas import TechnicianPhotoSchema

blp = Blueprint(
    "technician_photos",
    __name__,
    url_prefix="/v1",
    description="Technicians' profile photos (square WebP portraits, through short-lived links)",
)


@blp.route("/technicians/<uuid:technician_id>/photo")
class TechnicianPhoto(MethodView):
    @requires(Permission.TECHNICIANS_READ)
    @blp.response(200, TechnicianPhotoSchema)
    def get(self, technician_id: uuid.UUID) -> Any:
        """The technician's portraits: `small` (96 px square) and `large` (320 px), WebP,
        through links valid until `expires_at`. 404 `technician.no_photo` without one."""
        with read_uow() as uow:
            return photos.read_photo(uow.session, current_actor(), linker(), technician_id)

    @requires(Permission.SELF)
    @body_policy(max_bytes=photos.MAX_PHOTO_BYTES, json=False)
    @blp.doc(
        requestBody={
            "required": True,
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in ("image/jpeg", "image/png", "image/webp", "image/heic")
            },
        }
    )
    @blp.response(200, TechnicianPhotoSchema)
    def put(self, technician_id: uuid.UUID) -> Any:
        """Set the technician's photo (the raw image as the body, up to 10 MiB), replacing
        any earlier one: by the technician themself, or an admin or dispatcher. It is
        checked like every photo (a body that is not a whole JPEG, PNG, WebP or HEIC image
        is a `media.*` problem, and nothing is kept), turned upright and cropped square;
        EXIF (GPS, capture time) never leaves the server. Customers see the large portrait
        on the tracking page while the technician is assigned to their open order."""
        actor = current_actor()
        photos.set_photo(new_uow(), blob_store(), actor, technician_id, body_bytes())
        with read_uow() as uow:
            return photos.read_photo(uow.session, actor, linker(), technician_id)

    @requires(Permission.SELF)
    @blp.response(204)
    def delete(self, technician_id: uuid.UUID) -> Any:
        """Remove the photo (the technician themself, an admin or a dispatcher)."""
        photos.remove_photo(new_uow(), current_actor(), technician_id)
        return None
