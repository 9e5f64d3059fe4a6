"""PreRollProductParser: a table of real-world names, and properties (docs/apexapi.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preroll_contract import strain_key
from sync_engine.mapping.parser import (
    ParsedProduct,
    PreRollProductParser,
    Rejected,
    sku_key_for,
)

parser = PreRollProductParser()

ACCEPTED = [
    # (name, family, strain, mg per unit, pack, sku key)
    ("CannaDart - Blue Dream 0.5g", "CannaDart", "Blue Dream", 500, 1, "singles_0_5g"),
    ("CannaDart - Blue Dream 1g", "CannaDart", "Blue Dream", 1000, 1, "singles_1g"),
    ("CannaDart - Blue Dream 1.0g", "CannaDart", "Blue Dream", 1000, 1, "singles_1g"),
    ("CannaDart - Blue Dream .5 g", "CannaDart", "Blue Dream", 500, 1, "singles_0_5g"),
    ("cannadart blue dream 0.5G", "CannaDart", "blue dream", 500, 1, "singles_0_5g"),
    ("CANNADART - BLUE DREAM - 1G", "CannaDart", "BLUE DREAM", 1000, 1, "singles_1g"),
    ("Canna Dart | Wedding Cake | 0.5g", "CannaDart", "Wedding Cake", 500, 1, "singles_0_5g"),
    ("CannaDarts - Gelato 1 gram", "CannaDart", "Gelato", 1000, 1, "singles_1g"),
    ("CannaDart - Wedding Cake 0.8g", "CannaDart", "Wedding Cake", 800, 1, "cannadart_0_8g"),
    ("CannaDart   -   Sour   Diesel   0.5g", "CannaDart", "Sour Diesel", 500, 1, "singles_0_5g"),
    ("Magnetic Box - Blue Dream 6pk", "Magnetic Box", "Blue Dream", 500, 6, "box_0_5g_6pk"),
    ("Magnetic Box - Blue Dream 12pk", "Magnetic Box", "Blue Dream", 500, 12, "box_0_5g_12pk"),
    ("Magnetic Box - Blue Dream 6 pack", "Magnetic Box", "Blue Dream", 500, 6, "box_0_5g_6pk"),
    ("Magnetic Box - Blue Dream 6-pack 0.5g", "Magnetic Box", "Blue Dream", 500, 6, "box_0_5g_6pk"),
    ("Magnetic Box (6) Gelato", "Magnetic Box", "Gelato", 500, 6, "box_0_5g_6pk"),
    ("Mag Box (12) Gelato .5g", "Magnetic Box", "Gelato", 500, 12, "box_0_5g_12pk"),
    ("MAG BOX - ZKITTLEZ - 12PK", "Magnetic Box", "ZKITTLEZ", 500, 12, "box_0_5g_12pk"),
    ("Magnetic Display Box - Runtz 6pk", "Magnetic Box", "Runtz", 500, 6, "box_0_5g_6pk"),
    ("Magnetic Box - Mimosa 12 ct", "Magnetic Box", "Mimosa", 500, 12, "box_0_5g_12pk"),
    ("Magnetic Box - Mimosa 5pk 1g", "Magnetic Box", "Mimosa", 1000, 5, "magnetic_box_1g_5pk"),
    ("Magnetic Boxes - Blue Dream 6pk", "Magnetic Box", "Blue Dream", 500, 6, "box_0_5g_6pk"),
    ("Cocoa Blunt - Blue Dream 1g", "Cocoa Blunt", "Blue Dream", 1000, 1, "cocoa_blunt_1g"),
    ("COCOA BLUNT \u2013 Sour Diesel 1g", "Cocoa Blunt", "Sour Diesel", 1000, 1, "cocoa_blunt_1g"),
    ("Cocoa-Blunt: Gelato 1.5g", "Cocoa Blunt", "Gelato", 1500, 1, "cocoa_blunt_1_5g"),
    ("Cocoa Blunts - Wedding Cake 2g", "Cocoa Blunt", "Wedding Cake", 2000, 1, "cocoa_blunt_2g"),
    ("Blue Dream Pre-Roll 1g", "Pre-Roll", "Blue Dream", 1000, 1, "singles_1g"),
    ("Blue Dream Preroll 0.5g", "Pre-Roll", "Blue Dream", 500, 1, "singles_0_5g"),
    ("Blue Dream Pre Roll .5g", "Pre-Roll", "Blue Dream", 500, 1, "singles_0_5g"),
    ("Pre-Roll | Wedding Cake | 1.0g", "Pre-Roll", "Wedding Cake", 1000, 1, "singles_1g"),
    ("Pre-Roll - GG #4 - 1g", "Pre-Roll", "GG #4", 1000, 1, "singles_1g"),
    ("Pre-Rolls 5pk 0.5g Mimosa", "Pre-Roll", "Mimosa", 500, 5, "pre_roll_0_5g_5pk"),
    ("Gelato Pre-Roll (2) 1g", "Pre-Roll", "Gelato", 1000, 2, "pre_roll_1g_2pk"),
    ("Single Pre-Roll - Runtz - 1g", "Pre-Roll", "Runtz", 1000, 1, "singles_1g"),
    ("Infused Pre-Roll - Gelato 1g", "Pre-Roll", "Gelato", 1000, 1, "singles_1g"),
    ("Northern Lights Preroll 1 g", "Pre-Roll", "Northern Lights", 1000, 1, "singles_1g"),
    ("PREROLL GORILLA GLUE 0.5G", "Pre-Roll", "GORILLA GLUE", 500, 1, "singles_0_5g"),
    ("Pre-Roll: Pineapple Express [1g]", "Pre-Roll", "Pineapple Express", 1000, 1, "singles_1g"),
    ("Pre-roll - Jack Herer 0.75g", "Pre-Roll", "Jack Herer", 750, 1, "pre_roll_0_75g"),
    ("Pre-Roll 1g - Lemon Cherry Gelato", "Pre-Roll", "Lemon Cherry Gelato", 1000, 1, "singles_1g"),
    ("Pre-Roll - Wedding Cake 3 x 0.5g", "Pre-Roll", "Wedding Cake", 500, 3, "pre_roll_0_5g_3pk"),
]

REJECTED = [
    ("Blue Dream 3.5g Flower", "not a pre-roll product"),
    ("Watermelon Gummies 100mg", "not a pre-roll product"),
    ("Wedding Cake Live Resin Cart 1g", "not a pre-roll product"),
    ("Gelato Shake 28g", "not a pre-roll product"),
    ("Rolling Papers 1 1/4", "not a pre-roll product"),
    ("Magnetic Box Gelato", "no pack count"),
    ("CannaDart - Blue Dream", "no size"),
    ("Cocoa Blunt - Gelato", "no size"),
    ("Pre-Roll 1g", "no strain name"),
    ("CannaDart - 0.5g", "no strain name"),
    ("CannaDart - Blue Dream 0.5g 1g", "more than one size"),
    ("Magnetic Box - Gelato 6pk 12pk", "more than one pack count"),
    ("CannaDart - Blue Dream 0g", "unreadable size"),
]


@pytest.mark.parametrize(("name", "family", "strain", "mg", "pack", "sku"), ACCEPTED)
def test_accepted_names(name: str, family: str, strain: str, mg: int, pack: int, sku: str) -> None:
    """Each pre-roll name yields its family, strain, size, pack and SKU key."""
    assert parser.parse(name) == ParsedProduct(family, strain, mg, pack, sku)


@pytest.mark.parametrize(("name", "reason"), REJECTED)
def test_rejected_names_say_why(name: str, reason: str) -> None:
    """Non-pre-rolls and incomplete names are refused with the reason."""
    result = parser.parse(name)
    assert isinstance(result, Rejected)
    assert reason in result.reason


def test_table_is_broad() -> None:
    """The table covers every family, the size spellings and the pack spellings."""
    assert len(ACCEPTED) + len(REJECTED) >= 40
    families = {row[1] for row in ACCEPTED}
    assert families == {"CannaDart", "Magnetic Box", "Cocoa Blunt", "Pre-Roll"}


def test_same_strain_written_differently_has_one_key() -> None:
    """Case, spacing and punctuation do not make two strains; ambiguity shows in the mapping."""
    names = [
        "CannaDart - Blue Dream 0.5g",
        "cannadart blue-dream .5g",
        "CANNADART BLUE  DREAM 0.5G",
    ]
    parsed = [parser.parse(n) for n in names]
    assert {p.strain_key for p in parsed if isinstance(p, ParsedProduct)} == {"blue dream"}
    assert {p.sku_key for p in parsed if isinstance(p, ParsedProduct)} == {"singles_0_5g"}


strain_words = st.lists(
    st.sampled_from(
        [
            "Blue",
            "Dream",
            "Wedding",
            "Cake",
            "Gelato",
            "Sour",
            "Diesel",
            "OG",
            "Kush",
            "Lemon",
            "Haze",
            "Runtz",
        ]
    ),
    min_size=1,
    max_size=3,
).map(" ".join)


@given(
    strain=strain_words,
    family=st.sampled_from(["CannaDart", "Cocoa Blunt", "Pre-Roll"]),
    grams=st.sampled_from(["0.5g", ".5g", "0.5 g", "1g", "1.0g", "1 g", "0.8g", "1.5g"]),
    separator=st.sampled_from([" - ", " | ", " ", " \u2013 ", ": "]),
    upper=st.booleans(),
)
def test_singles_round_trip(
    strain: str, family: str, grams: str, separator: str, upper: bool
) -> None:
    """Family + strain + size in any common layout gives back the strain and the size."""
    name = f"{family}{separator}{strain} {grams}"
    result = parser.parse(name.upper() if upper else name)
    assert isinstance(result, ParsedProduct), result
    assert result.strain_key == strain_key(strain)
    assert result.mg_per_unit == round(float(grams.strip().rstrip("g").strip()) * 1000)
    assert result.pack_size == 1
    assert result.sku_key == sku_key_for(result.family, result.mg_per_unit, 1)


@given(
    strain=strain_words,
    pack=st.sampled_from([6, 12]),
    spelling=st.sampled_from(["{n}pk", "{n} pack", "({n})", "{n} ct", "{n}-pack"]),
)
def test_magnetic_boxes_round_trip(strain: str, pack: int, spelling: str) -> None:
    """Magnetic boxes of 6 and 12 map to the default box SKUs however the pack is written."""
    result = parser.parse(f"Magnetic Box - {strain} {spelling.format(n=pack)}")
    assert isinstance(result, ParsedProduct), result
    assert (result.strain_key, result.sku_key) == (strain_key(strain), f"box_0_5g_{pack}pk")


@given(st.text(max_size=80))
def test_parser_never_crashes(name: str) -> None:
    """Any text gives a parse or a rejection, never an exception."""
    assert isinstance(parser.parse(name), ParsedProduct | Rejected)
