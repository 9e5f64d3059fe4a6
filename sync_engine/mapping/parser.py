"""``PreRollProductParser``: an Apex product name → family, strain, size, pack and SKU key.

Pure functions over strings (docs/apexapi.md). Names that are not pre-roll products, or that lack
what the SKU needs (a size, a pack count), come back as a :class:`Rejected` with the reason.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

import msgspec

from preroll_contract import default_sku_key, strain_key

__all__ = ["ParsedProduct", "PreRollProductParser", "Rejected", "sku_key_for"]


class ParsedProduct(msgspec.Struct, frozen=True):
    family: str  # "CannaDart", "Magnetic Box", "Cocoa Blunt", "Pre-Roll"
    strain: str  # as written in the product name, tidied
    mg_per_unit: int
    pack_size: int
    sku_key: str

    @property
    def strain_key(self) -> str:
        return strain_key(self.strain)


class Rejected(msgspec.Struct, frozen=True):
    reason: str


# Order matters: the first family whose pattern matches wins.
_FAMILIES: Final = (
    ("CannaDart", re.compile(r"canna[\s-]*darts?", re.I)),
    ("Magnetic Box", re.compile(r"\bmag(?:netic)?\b[\s-]*(?:\w+[\s-]+)??box(?:es)?\b", re.I)),
    ("Cocoa Blunt", re.compile(r"cocoa[\s-]*blunts?", re.I)),
    ("Pre-Roll", re.compile(r"\bpre[\s-]*rolls?\b|\bprerolls?\b", re.I)),
)
_GRAMS = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?|\.\d+)\s*(?:g|gr|grams?)\b\.?", re.I)
_PACK = re.compile(
    r"(?<![\w.])(\d+)\s*-?\s*(?:pk|packs?|ct|count)\b\.?|\(\s*(\d+)\s*\)|(?<![\w.])(\d+)\s*x\b",
    re.I,
)
_NOISE = re.compile(r"\b(?:singles?|infused|hybrid|indica|sativa|each)\b", re.I)
_SEPARATORS = re.compile(r"[|/\\:,;\u2013\u2014\-_\[\]{}()*~]+")
_DEFAULT_BOX_MG = 500


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


def _size_slug(mg: int) -> str:
    grams = Decimal(mg) / 1000
    text = format(grams.normalize(), "f")
    return text.replace(".", "_") + "g"


def sku_key_for(family: str, mg_per_unit: int, pack_size: int) -> str:
    """The tracker's default SKU key for this product, else the custom-SKU key convention."""
    default = default_sku_key(family, mg_per_unit, pack_size)
    if default is not None:
        return default
    pack = f"_{pack_size}pk" if pack_size > 1 else ""
    return f"{_slug(family)}_{_size_slug(mg_per_unit)}{pack}"


class PreRollProductParser:
    """Parses Apex product names; one instance can be shared (it holds no state)."""

    def parse(self, name: str) -> ParsedProduct | Rejected:
        text = " ".join(name.split())
        family, family_match = self._family(text)
        if family is None or family_match is None:
            return Rejected(
                "not a pre-roll product (no CannaDart, Magnetic Box, Cocoa Blunt or "
                "pre-roll in the name)"
            )
        rest = text[: family_match.start()] + " " + text[family_match.end() :]
        grams = [m for m in _GRAMS.finditer(rest)]
        packs = [m for m in _PACK.finditer(rest)]
        if len(grams) > 1:
            return Rejected(f"more than one size in the name: {', '.join(m[0] for m in grams)}")
        if len(packs) > 1:
            return Rejected(
                f"more than one pack count in the name: {', '.join(m[0] for m in packs)}"
            )
        mg = self._milligrams(grams[0][1]) if grams else None
        pack = int(next(g for g in packs[0].groups() if g)) if packs else 1
        if grams and mg is None:
            return Rejected(f"unreadable size {grams[0][0]!r}")
        if mg is None:
            if family != "Magnetic Box":
                return Rejected(f"no size (such as 0.5g or 1g) in a {family} name")
            mg = _DEFAULT_BOX_MG
        if family == "Magnetic Box" and not packs:
            return Rejected("no pack count (such as 6pk or 12pk) in a Magnetic Box name")
        if pack < 1 or pack > 500:
            return Rejected(f"pack count {pack} is out of range")
        strain = self._strain(rest, grams + packs)
        if not strain:
            return Rejected("no strain name left after the product type, size and pack")
        return ParsedProduct(family, strain, mg, pack, sku_key_for(family, mg, pack))

    @staticmethod
    def _family(text: str) -> tuple[str | None, re.Match[str] | None]:
        for family, pattern in _FAMILIES:
            match = pattern.search(text)
            if match:
                return family, match
        return None, None

    @staticmethod
    def _milligrams(number: str) -> int | None:
        try:
            grams = Decimal(number)
        except InvalidOperation:
            return None
        mg = grams * 1000
        if mg <= 0 or mg != mg.to_integral_value() or grams > 100:
            return None
        return int(mg)

    @staticmethod
    def _strain(rest: str, matches: list[re.Match[str]]) -> str:
        for match in sorted(matches, key=lambda m: m.start(), reverse=True):
            rest = rest[: match.start()] + " " + rest[match.end() :]
        rest = _NOISE.sub(" ", rest)
        rest = _SEPARATORS.sub(" ", rest)
        rest = re.sub(r"\s+(?:-|&|\+|by)\s*$", "", rest)
        return " ".join(rest.split()).strip(" .'\"")
