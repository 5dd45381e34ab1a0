"""How alike two problem descriptions are, in Chinese and in English.

Chinese has no spaces between words, and word segmentation (jieba and the like)
needs a dictionary that misses the trade's own words (冷凝器, 压缩机) exactly
where they matter. Character n-grams need none: each text becomes the multiset
of its *shingles*, every pair of adjacent CJK characters (空调不制冷 → 空调,
调不, 不制, 制冷) and every three-letter slice of a Latin word or number padded
with its boundaries (``" leak "`` → `` le``, ``lea``, ``eak``, ``ak ``), so a
typo costs a shingle or two rather than the whole word. Two texts are as alike
as the Dice coefficient of their shingle multisets: 2·|A∩B| / (|A|+|B|),
symmetric, in [0, 1], 1 for texts that are the same after normalisation.

Normalisation (NFKC, casefold) makes full-width letters and digits (ＡＢＣ１２)
and case differences count as equal; punctuation and whitespace only separate.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

# CJK ideographs (unified, extension A, compatibility) and kana, each a "letter".
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_CJK}]+|[^\W{_CJK}_]+")
_IS_CJK = re.compile(rf"[{_CJK}]")


def shingles(text: str) -> Counter[str]:
    """The multiset of n-grams a text is compared by (empty for text without letters)."""
    found: Counter[str] = Counter()
    for run in _RUN.findall(unicodedata.normalize("NFKC", text).casefold()):
        if _IS_CJK.match(run):
            found.update(run if len(run) == 1 else (run[i : i + 2] for i in range(len(run) - 1)))
        else:
            padded = f" {run} "
            found.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return found


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the two texts' shingles; 0.0 when either has none."""
    return dice(shingles(a), shingles(b))


def dice(a: Counter[str], b: Counter[str]) -> float:
    total = a.total() + b.total()
    if not a or not b:
        return 0.0
    return 2 * (a & b).total() / total
