"""What a photo's EXIF says about where and when it was taken, read once and kept as data.

The pipeline keeps these as evidence metadata (columns of the photo) and strips
every EXIF and XMP block from the derivatives it serves, so a customer who is
shown a photo never receives its GPS position. Values a camera wrote that cannot
be true (latitude past 90°, a zero denominator, a date that does not exist) are
dropped rather than guessed at: a missing fact is better than a wrong one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from PIL import Image

_GPS_IFD = 0x8825
_EXIF_IFD = 0x8769
_DATETIME = 0x0132  # IFD0: last modified, the fallback for cameras without DateTimeOriginal
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4
_GPS_ALT_REF, _GPS_ALT, _GPS_TIME, _GPS_DATE = 5, 6, 7, 29
_EXIF_TIME = "%Y:%m:%d %H:%M:%S"


@dataclass(frozen=True)
class PhotoMetadata:
    """Where and when, as far as the camera knew.

    ``captured_at`` is an instant (UTC) when the EXIF says which time zone its clock
    was in (``OffsetTimeOriginal``) or carries the GPS clock (always UTC);
    ``captured_local`` is the camera's wall-clock reading, as written, in ISO form.
    """

    captured_at: datetime | None = None
    captured_local: str | None = None
    lat: float | None = None
    lon: float | None = None
    alt: float | None = None


def read_metadata(exif: Image.Exif) -> PhotoMetadata:
    """The position and capture time in ``exif`` (an image's ``getexif()``)."""
    gps = _ifd(exif, _GPS_IFD)
    details = _ifd(exif, _EXIF_IFD)
    lat = _coordinate(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF), "S", 90)
    lon = _coordinate(gps.get(_GPS_LON), gps.get(_GPS_LON_REF), "W", 180)
    if lat is None or lon is None:
        lat = lon = None  # half a position is no position
    local = _wall_clock(details.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME))
    return PhotoMetadata(
        captured_at=_instant(local, details.get(_OFFSET_TIME_ORIGINAL))
        or _gps_instant(gps.get(_GPS_DATE), gps.get(_GPS_TIME)),
        captured_local=local.isoformat() if local is not None else None,
        lat=lat,
        lon=lon,
        alt=_altitude(gps.get(_GPS_ALT), gps.get(_GPS_ALT_REF)) if lat is not None else None,
    )


def _ifd(exif: Image.Exif, tag: int) -> dict[int, Any]:
    try:
        return dict(exif.get_ifd(tag))
    except Exception:  # a malformed sub-IFD: treat it as absent
        return {}


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _coordinate(dms: Any, ref: Any, negative: str, limit: float) -> float | None:
    if not isinstance(dms, tuple | list) or len(dms) != 3:
        return None
    parts = [_number(p) for p in dms]
    if any(p is None or p < 0 for p in parts):
        return None
    degrees, minutes, seconds = (float(p) for p in parts if p is not None)
    value = degrees + minutes / 60 + seconds / 3600
    if value > limit:
        return None
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if isinstance(ref, str) and ref.strip().upper() == negative:
        value = -value
    return round(value, 7)  # about a centimetre: more than any phone's fix


def _altitude(value: Any, ref: Any) -> float | None:
    metres = _number(value)
    if metres is None or abs(metres) > 100_000:
        return None
    below = ref in (1, b"\x01", "1")  # 1: below sea level
    return round(-metres if below else metres, 2)


def _wall_clock(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip("\x00 ")[:19], _EXIF_TIME)
    except ValueError:
        return None


def _instant(local: datetime | None, offset: Any) -> datetime | None:
    if local is None or not isinstance(offset, str):
        return None
    text = offset.strip("\x00 ")
    if len(text) != 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    sign = -1 if text[0] == "-" else 1
    zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    return local.replace(tzinfo=zone).astimezone(UTC)


def _gps_instant(date: Any, time: Any) -> datetime | None:
    day = _wall_clock(f"{date} 00:00:00") if isinstance(date, str) else None
    if day is None or not isinstance(time, tuple | list) or len(time) != 3:
        return None
    parts = [_number(p) for p in time]
    if any(p is None or p < 0 for p in parts):
        return None
    hours, minutes, seconds = (float(p) for p in parts if p is not None)
    if hours >= 24 or minutes >= 60 or seconds >= 61:
        return None
    return day.replace(tzinfo=UTC) + timedelta(hours=hours, minutes=minutes, seconds=seconds)
