"""The PDF service report, drawn from a sealed report's JSON (what is printed is what is sealed).

fpdf2 lays out: the order and its customer, site and assets; the timeline; the
work done; parts; readings; photo thumbnails; the signature (or the refusal);
and the seal, with a QR code (segno) of the public verification address. Text
is set in Noto Sans CJK (Debian's ``fonts-noto-cjk``), embedded as a subset, so
Chinese and Latin render the same in any viewer; :func:`find_cjk_font` says where.
Labels exist in ``zh-CN`` and ``en``; the data keeps the language it was written in.

Speed: the CJK collection has 65,000 glyphs, and reading and subsetting it takes
seconds per document. So a subset of it (Latin, punctuation, the 6,763 hanzi of
GB 2312: what nearly every report uses) is made once per machine and cached on
disk (``FIELDLINE_FONT_CACHE_DIR``, default a ``fieldline-fonts`` folder in the
temporary directory); a report whose text needs a character outside it is set
with the whole font instead: slower, never a missing glyph.
"""

from __future__ import annotations

import functools
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import segno
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image

FONT_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/opentype/noto-cjk"),
    Path("/usr/local/share/fonts"),
)
_SC = 2  # NotoSansCJK-*.ttc: JP, KR, SC, TC, HK; SC draws simplified Chinese forms
THUMB_PX = 360


class FontMissing(RuntimeError):
    """No CJK font: install Debian's fonts-noto-cjk or set FIELDLINE_PDF_FONT_DIR."""


@dataclass(frozen=True)
class Photo:
    caption: str | None
    data: bytes  # any image Pillow reads (the WebP thumbnail, or the original)


@dataclass(frozen=True)
class Artwork:
    """What the report JSON does not hold: images, and where to verify it."""

    photos: Sequence[Photo]
    signature_png: bytes | None
    verify_url: str
    seal: Mapping[str, str]  # algorithm, key_id, sha256 (the signature itself is online)


LABELS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Service report",
        "order": "Work order",
        "customer": "Customer",
        "site": "Site",
        "assets": "Equipment",
        "timeline": "Timeline (UTC)",
        "work": "Work done",
        "parts": "Parts used",
        "readings": "Readings",
        "photos": "Photos",
        "signature": "Customer signature",
        "refused": "The customer declined to sign. Reason:",
        "signer": "Signed by",
        "seal": "Seal",
        "verify": "Scan to verify this report",
        "version": "Version",
        "none": "None",
    },
    "zh-CN": {
        "title": "服务报告",
        "order": "工单",
        "customer": "客户",
        "site": "地点",
        "assets": "设备",
        "timeline": "时间线（UTC）",
        "work": "处理结果",
        "parts": "使用配件",
        "readings": "测量读数",
        "photos": "现场照片",
        "signature": "客户签名",
        "refused": "客户拒绝签名，原因：",
        "signer": "签名人",
        "seal": "电子封印",
        "verify": "扫码验证本报告",
        "version": "版本",
        "none": "无",
    },
}


def find_cjk_font() -> tuple[Path, Path]:
    """(regular, bold) Noto Sans CJK collections; :class:`FontMissing` if absent."""
    configured = os.environ.get("FIELDLINE_PDF_FONT_DIR")
    for folder in ([Path(configured)] if configured else []) + list(FONT_DIRS):
        regular, bold = folder / "NotoSansCJK-Regular.ttc", folder / "NotoSansCJK-Bold.ttc"
        if regular.is_file():
            return regular, bold if bold.is_file() else regular
    raise FontMissing("Install fonts-noto-cjk (apt) or set FIELDLINE_PDF_FONT_DIR")


def render_pdf(report: Mapping[str, Any], art: Artwork, language: str = "zh-CN") -> bytes:
    words = LABELS.get(language, LABELS["en"])
    text = json.dumps([report, words, art.verify_url, art.seal], ensure_ascii=False)
    text += "".join(photo.caption or "" for photo in art.photos) + "·→×"
    pdf = _Document(words, {ord(c) for c in text})
    pdf.header_block(report)
    pdf.parties(report)
    pdf.timeline(report.get("timeline") or [])
    pdf.work_done(report)
    pdf.photos(art.photos)
    pdf.sign_off(report.get("sign_off"), art.signature_png)
    pdf.seal_block(report, art)
    return bytes(pdf.output())


class _Document(FPDF):
    def __init__(self, words: Mapping[str, str], chars: set[int]) -> None:
        super().__init__(format="A4")
        self.words = words
        regular, _ = find_cjk_font()
        if chars <= _common_chars():
            self.add_font("cjk", "", _common_subset(regular))
        else:
            self.add_font("cjk", "", regular, collection_font_number=_SC)
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()

    def heading(self, text: str, size: float = 12) -> None:
        self.ln(2)
        self.set_font("cjk", "", size + 1)
        self.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("cjk", "", 9.5)

    def line_text(self, text: str) -> None:
        self.multi_cell(0, 5.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def header_block(self, report: Mapping[str, Any]) -> None:
        order = report["work_order"]
        self.set_font("cjk", "", 20)
        self.cell(0, 11, self.words["title"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("cjk", "", 11)
        self.line_text(f"{self.words['order']} {order['number']} · {order['title']}")

    def parties(self, report: Mapping[str, Any]) -> None:
        customer, site = report["customer"], report["site"]
        self.heading(self.words["customer"])
        self.line_text(_both(customer.get("name"), customer.get("name_en")))
        self.heading(self.words["site"])
        self.line_text(_both(site.get("name"), site.get("name_en")))
        self.line_text(_both(site.get("address"), site.get("address_en")))
        assets = report.get("assets") or []
        if assets:
            self.heading(self.words["assets"])
            for asset in assets:
                details = " ".join(
                    str(asset[k])
                    for k in ("manufacturer", "model", "serial_number")
                    if asset.get(k)
                )
                self.line_text(f"{_both(asset.get('name'), asset.get('name_en'))}  {details}")

    def timeline(self, steps: Sequence[Mapping[str, Any]]) -> None:
        self.heading(self.words["timeline"])
        for step in steps:
            moment = str(step.get("occurred_at") or "")[:16].replace("T", " ")
            self.line_text(f"{moment}  {step.get('action')}  → {step.get('to')}")

    def work_done(self, report: Mapping[str, Any]) -> None:
        evidence = report.get("evidence") or {}
        self.heading(self.words["work"])
        self.line_text(report["work_order"].get("resolution") or self.words["none"])
        self.heading(self.words["parts"])
        for part in evidence.get("parts") or [{"description": self.words["none"]}]:
            number = f" ({part['part_number']})" if part.get("part_number") else ""
            amount = f"  × {part['quantity']} {part['unit']}" if part.get("quantity") else ""
            self.line_text(f"{part['description']}{number}{amount}")
        self.heading(self.words["readings"])
        for reading in evidence.get("readings") or [{"metric": self.words["none"]}]:
            value = f"  {reading['value']} {reading['unit']}" if reading.get("value") else ""
            self.line_text(f"{reading['metric']}{value}")

    def photos(self, photos: Sequence[Photo]) -> None:
        if not photos:
            return
        self.heading(self.words["photos"])
        size, gap = 42.0, 3.0
        per_row = int((self.epw + gap) // (size + gap))
        for start in range(0, len(photos), per_row):
            if self.get_y() + size + 8 > self.page_break_trigger:
                self.add_page()
            top = self.get_y()
            for i, photo in enumerate(photos[start : start + per_row]):
                x = self.l_margin + i * (size + gap)
                self.image(
                    _thumbnail(photo.data), x=x, y=top, w=size, h=size, keep_aspect_ratio=True
                )
                if photo.caption:
                    self.set_xy(x, top + size)
                    self.set_font("cjk", "", 7)
                    self.cell(size, 4, photo.caption[:30])
            self.set_font("cjk", "", 9.5)
            self.set_xy(self.l_margin, top + size + 6)

    def sign_off(self, sign_off: Mapping[str, Any] | None, png: bytes | None) -> None:
        self.heading(self.words["signature"])
        if sign_off is None:
            self.line_text(self.words["none"])
            return
        signer = sign_off["signer"]
        who = signer["name"] + (f" ({signer['role']})" if signer.get("role") else "")
        if sign_off["outcome"] == "refused":
            self.line_text(f"{self.words['refused']} {sign_off.get('refusal_reason')}")
            self.line_text(who)
            return
        if sign_off.get("consent_text"):
            self.line_text(str(sign_off["consent_text"]))
        if png is not None:
            if self.get_y() + 35 > self.page_break_trigger:
                self.add_page()
            self.image(io.BytesIO(png), x=self.l_margin, w=70)
        moment = str(sign_off.get("occurred_at") or "")[:16].replace("T", " ")
        self.line_text(f"{self.words['signer']}: {who}  {moment} UTC")

    def seal_block(self, report: Mapping[str, Any], art: Artwork) -> None:
        if self.get_y() + 45 > self.page_break_trigger:
            self.add_page()
        self.heading(self.words["seal"])
        meta = report["report"]
        top = self.get_y()
        qr = io.BytesIO()
        segno.make(art.verify_url, error="m").save(qr, kind="png", scale=4, border=1)
        qr.seek(0)
        self.image(qr, x=self.l_margin, y=top, w=32)
        self.set_xy(self.l_margin + 36, top)
        self.multi_cell(
            0,
            5,
            f"{self.words['version']} {meta['version']} · {meta['id']}\n"
            f"{art.seal.get('algorithm', 'Ed25519')} · key {art.seal.get('key_id', '')}\n"
            f"SHA-256 {art.seal.get('sha256', '')}\n"
            f"{self.words['verify']}: {art.verify_url}",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.set_y(max(self.get_y(), top + 34))


@functools.cache
def _common_chars() -> frozenset[int]:
    ranges = ((0x20, 0x7F), (0xA0, 0x180), (0x2000, 0x2070), (0x2190, 0x21A0), (0x3000, 0x3040))
    chars = {c for low, high in ranges for c in range(low, high)} | set(range(0xFF00, 0xFFF0))
    for code in range(0x4E00, 0xA000):
        try:
            chr(code).encode("gb2312")
        except UnicodeEncodeError:
            continue
        chars.add(code)
    return frozenset(chars)


@functools.cache
def _common_subset(source: Path) -> Path:
    """The cached subset of ``source`` (built once per machine, atomically)."""
    from fontTools import subset  # type: ignore[import-untyped]
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    stat = source.stat()
    folder = Path(
        os.environ.get("FIELDLINE_FONT_CACHE_DIR")
        or Path(tempfile.gettempdir()) / "fieldline-fonts"
    )
    target = folder / f"{source.stem}-{_SC}-{stat.st_size}-{stat.st_mtime_ns}-gb2312-v1.otf"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    options = subset.Options()
    options.layout_features = []
    options.notdef_outline = True
    options.name_IDs = ["*"]
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".otf")
    # Closed here: a lazy TTFont keeps the collection open until then.
    with TTFont(str(source), fontNumber=_SC, lazy=True) as font, os.fdopen(handle, "wb") as out:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=_common_chars())
        subsetter.subset(font)
        font.save(out)
    os.replace(temporary, target)  # several workers may build it at once: last one wins
    return target


def _thumbnail(data: bytes) -> io.BytesIO:
    """A small JPEG of the photo: a 12-megapixel original would swell the PDF and its time."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (THUMB_PX, THUMB_PX))  # JPEG: decode at reduced size
        small = image.convert("RGB")
        small.thumbnail((THUMB_PX, THUMB_PX))
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=80)
    out.seek(0)
    return out


def _both(primary: object, english: object) -> str:
    first = str(primary or "")
    return f"{first} / {english}" if english and english != primary else first
