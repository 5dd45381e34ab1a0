"""The font annotation text is drawn in: Noto Sans CJK when the machine has it.

Technicians label photos in Chinese as often as in English. Pillow's built-in font
has Latin glyphs only, and draws every Chinese character as the same empty box, so
text is set in Noto Sans CJK (Debian's ``fonts-noto-cjk``, which ``./dev`` installs
for the PDF report as well), face SC (simplified Chinese forms) of the collection.
Without it (``FIELDLINE_PDF_FONT_DIR`` and the usual folders hold no collection),
the built-in font is the fallback: Latin text still renders, Chinese as boxes, and
nothing fails. Fonts are loaded once per process and size.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from PIL import ImageFont

# Where Debian and a local install put the collections (as signatures/pdf.py looks).
FONT_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/opentype/noto-cjk"),
    Path("/usr/local/share/fonts"),
)
COLLECTION = "NotoSansCJK-Regular.ttc"
SC_FACE = 2  # NotoSansCJK-*.ttc faces: JP, KR, SC, TC, HK

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def cjk_font_path() -> Path | None:
    """The Noto Sans CJK collection, if the machine has one."""
    configured = os.environ.get("FIELDLINE_PDF_FONT_DIR")
    for folder in ([Path(configured)] if configured else []) + list(FONT_DIRS):
        if (folder / COLLECTION).is_file():
            return folder / COLLECTION
    return None


def text_font(size: int) -> Font:
    """A font of ``size`` pixels for annotation text: CJK when present, else built in."""
    return _font(cjk_font_path(), size)


@cache
def _font(path: Path | None, size: int) -> Font:
    if path is not None:
        try:
            return ImageFont.truetype(str(path), size, index=SC_FACE)
        except OSError:  # unreadable or not a collection after all: fall back
            pass
    return ImageFont.load_default(size=size)
