"""Where an order line's grams go (tracker_service/sync/line_grams.py), for any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tracker_service.sync.line_grams import Held, Room, split_shipped, spread_line

UNITS_MG = st.sampled_from([500, 800, 1000, 3000, 6000])


@st.composite
def rooms(draw: st.DrawFn) -> list[Room]:
    count = draw(st.integers(0, 5))
    return [Room(f"P{i}", draw(UNITS_MG), draw(st.integers(-5_000, 60_000))) for i in range(count)]


@settings(max_examples=400, deadline=None)
@given(rooms(), st.integers(0, 40), st.integers(0, 40))
def test_a_line_never_takes_more_than_there_is_and_reports_what_is_missing(
    offered: list[Room], packed: int, to_pack: int
) -> None:
    shares, short = spread_line(offered, packed, to_pack)
    room = {r.metrc_number: max(0, r.room_mg) for r in offered}
    unit = {r.metrc_number: r.unit_mg for r in offered}
    assert [s.metrc_number for s in shares] == [
        r.metrc_number for r in offered if r.metrc_number in {s.metrc_number for s in shares}
    ], "shares keep the order the packages were offered in"
    overflow = packed * unit[offered[0].metrc_number] if offered else 0
    for share in shares:
        assert share.reserved_mg >= 0 and share.packed_mg >= 0
        limit = room[share.metrc_number] + (overflow if share is shares[0] else 0)
        assert share.reserved_mg + share.packed_mg <= limit
    if not offered:
        assert (shares, short) == ([], to_pack)
        return
    whole_reserved = sum(s.reserved_mg // unit[s.metrc_number] for s in shares)
    assert 0 <= short <= to_pack
    assert whole_reserved >= to_pack - short, "every unit not short is covered"
    if short:
        # The strain could not cover the line: it keeps nothing free to sell to anyone else.
        taken = sum(s.reserved_mg + s.packed_mg for s in shares)
        assert taken >= sum(room.values())
    else:
        reserved_units = sum(s.reserved_mg / unit[s.metrc_number] for s in shares)
        assert reserved_units == to_pack, "a covered line holds exactly its units"


@given(rooms(), st.integers(0, 40))
def test_packed_units_are_always_placed_even_beyond_the_room(
    offered: list[Room], packed: int
) -> None:
    shares, short = spread_line(offered, packed, 0)
    assert short == 0
    if offered:
        unit = {r.metrc_number: r.unit_mg for r in offered}
        assert sum(s.packed_mg // unit[s.metrc_number] for s in shares) == packed


def test_the_first_package_is_used_before_the_next() -> None:
    shares, short = spread_line([Room("A", 1000, 3500), Room("B", 1000, 10_000)], 1, 4)
    assert short == 0
    assert [(s.metrc_number, s.reserved_mg, s.packed_mg) for s in shares] == [
        ("A", 2000, 1000),
        ("B", 2000, 0),
    ]


@given(
    st.lists(
        st.tuples(st.integers(0, 20), st.integers(0, 20), st.sampled_from([500, 1000])),
        min_size=1,
        max_size=4,
    ),
    st.integers(0, 60),
)
def test_shipping_takes_every_packed_unit_from_the_packages_that_held_the_line(
    held: list[tuple[int, int, int]], units_packed: int
) -> None:
    parts = [Held(r * unit, p * unit, unit) for r, p, unit in held]
    shipped = split_shipped(parts, units_packed)
    assert sum(
        g // part.unit_mg for g, part in zip(shipped, parts, strict=True) if part.unit_mg
    ) == (units_packed)
    for grams, part in zip(shipped[1:], parts[1:], strict=True):
        assert grams <= part.reserved_mg + part.packed_mg


def test_a_package_that_no_longer_sells_the_sku_ships_what_was_packed_on_it() -> None:
    assert split_shipped([Held(0, 4000, None), Held(2000, 0, 1000)], 2) == [4000, 2000]
