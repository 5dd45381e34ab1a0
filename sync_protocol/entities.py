"""The vocabulary of synced records: tables, evidence kinds and the small enums rows carry.

These are shared by the server's models (``api.workorders.states`` re-exports
:class:`Priority` and :class:`NoteVisibility`; the database stores their values)
and by the client SDK's local replica, so both spell every value the same way.
"""

from __future__ import annotations

from enum import StrEnum


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class NoteVisibility(StrEnum):
    INTERNAL = "internal"  # staff only
    CUSTOMER = "customer"  # also the customer's contacts


class Table(StrEnum):
    """Tables a device replicates (PROTOCOL.md § 5). Pull changes name one of these."""

    WORK_ORDERS = "work_orders"
    WORK_ORDER_ASSETS = "work_order_assets"
    CUSTOMERS = "customers"
    CONTACTS = "contacts"
    SITES = "sites"
    ASSETS = "assets"
    ASSET_HISTORY = "asset_history"
    CATEGORIES = "categories"
    STATUS_CHANGES = "status_changes"
    NOTES = "notes"
    PARTS_USED = "parts_used"
    READINGS = "readings"
    TIME_ENTRIES = "time_entries"
    PHOTOS = "photos"
    CONFLICTS = "conflicts"
    QUARANTINE = "quarantine"
    OFFERS = "offers"


class EvidenceKind(StrEnum):
    """Append-only records a technician adds to an order; each has its own table."""

    NOTE = "note"
    PART = "part"
    READING = "reading"
    TIME_ENTRY = "time_entry"
    PHOTO = "photo"

    @property
    def table(self) -> Table:
        return _EVIDENCE_TABLES[self]


_EVIDENCE_TABLES = {
    EvidenceKind.NOTE: Table.NOTES,
    EvidenceKind.PART: Table.PARTS_USED,
    EvidenceKind.READING: Table.READINGS,
    EvidenceKind.TIME_ENTRY: Table.TIME_ENTRIES,
    EvidenceKind.PHOTO: Table.PHOTOS,
}


class TombstoneReason(StrEnum):
    """Why a row disappears from a replica: gone for good, or only out of this device's reach."""

    DELETED = "deleted"
    LEFT_SCOPE = "left_scope"


class TimeEntryKind(StrEnum):
    TRAVEL = "travel"
    WORK = "work"
    WAITING = "waiting"


class PhotoType(StrEnum):
    """Content types accepted for photo bytes."""

    JPEG = "image/jpeg"
    PNG = "image/png"
    WEBP = "image/webp"
    HEIC = "image/heic"


class Symbology(StrEnum):
    """Barcode symbologies a scan may name (the server checks the code against it)."""

    QR = "qr"
    DATA_MATRIX = "data_matrix"
    CODE_128 = "code_128"
    CODE_39 = "code_39"
    EAN_13 = "ean_13"
    EAN_8 = "ean_8"
    UPC_A = "upc_a"
    PDF_417 = "pdf_417"


class BlobState(StrEnum):
    """A photo's bytes: referenced but not here yet, here and verified, or not matching."""

    PENDING = "pending"
    READY = "ready"
    INVALID = "invalid"


def blob_state(*, present: bool, size_matches: bool = True) -> BlobState:
    """What a photo row shows (PROTOCOL.md § 10): never "ready" before its bytes are."""
    if not present:
        return BlobState.PENDING
    return BlobState.READY if size_matches else BlobState.INVALID
