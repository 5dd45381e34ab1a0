"""``tus_uploads``: one row per resumable upload, owned by the user who created it.

The row is the truth about an upload's progress: ``offset`` only moves forward,
by compare-and-set, once the bytes up to it are on disk in the staging area
(:mod:`media.tus`). A completed upload keeps its row (``completed_at`` set, the
staged file gone, its bytes in the blob store) until it expires, so a client that
lost the last response can ``HEAD`` it and see it finished.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, TenantOwned, new_id, utcnow
from api.db.base import JSONType


class TusUpload(TenantOwned, Base):
    __tablename__ = "tus_uploads"
    __table_args__ = (Index("ix_tus_uploads_expires_at", "expires_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # The user (or API key) that created it: nobody else may see it (404).
    owner_id: Mapped[uuid.UUID]
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    # Upload-Metadata as sent (filename and any client keys), echoed by HEAD.
    upload_metadata: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    completed_at: Mapped[datetime | None] = mapped_column(default=None)
