"""The strain-matching rule: two names are the same strain when their keys are equal."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["strain_key"]

_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


def strain_key(name: str) -> str:
    """NFKC, casefolded, every run of non-alphanumerics one space, trimmed.

    ``"Blue-Dream"``, ``"blue  dream"`` and ``"BLUE DREAM"`` all give ``"blue dream"``.
    """
    folded = unicodedata.normalize("NFKC", name).casefold()
    return _NOT_ALPHANUMERIC.sub(" ", folded).strip()
