"""A license holding pre-roll packages for the METRC simulator, matching the tracker's demo.

The demo tracker's packages are here with METRC's own quantities (two differ a little, as real
ones do), plus packages the tracker does not know yet (one count-based), flower to roll from,
packages that are not pre-rolls (the item filter leaves them out) and tags to create with.
"""

from __future__ import annotations

from datetime import UTC, datetime

from simulators.metrc.state import MetrcState

__all__ = ["LICENSE", "add_packages", "seed_metrc"]

LICENSE = "SIM-LIC-0001"


def seed_metrc(state: MetrcState) -> MetrcState:
    def preroll(strain: str) -> int:
        return state.add_item(f"{strain} Pre-Roll Bulk", strain)

    items = {s: preroll(s) for s in ("Wedding Cake", "Blue Dream", "Gelato", "Sour Diesel")}
    items["Northern Lights"] = preroll("Northern Lights")
    for tag, strain, grams in [
        ("1A40603000123456", "Wedding Cake", 500),
        ("1A4060300002EE1000012345", "Blue Dream", 1248.5),  # weighed again in METRC
        ("1A4060300002EE1000012346", "Gelato", 320),
        ("1A4060300002EE1000012347", "Gelato", 180.25),
        ("1A4060300002EE1000012348", "Sour Diesel", 75),
        ("1A4060300002EE1000012349", "Northern Lights", 38),  # weighed again in METRC
        ("1A4060300002EE1000012350", "Blue Dream", 410),  # not in the tracker yet
    ]:
        state.add_package(LICENSE, tag, items[strain], grams)
    boxed = state.add_item(
        "Gelato 0.5g Pre-Roll 6pk",
        "Gelato",
        category="Pre-Roll Infused",
        unit="Each",
        unit_weight=3.0,
    )
    state.add_package(LICENSE, "1A4060300002EE1000012351", boxed, 24)  # 24 boxes of 3 g
    for strain in ("Wedding Cake", "Blue Dream", "Gelato"):
        flower = state.add_item(f"{strain} Flower", strain, category="Flower")
        label = f"1A4060300002EE20000{len(state.packages):05d}"
        state.add_package(
            LICENSE, label, flower, 2.5, UnitOfMeasureName="Pounds", UnitOfMeasureAbbreviation="lb"
        )
    gummies = state.add_item("Watermelon Gummies 100mg", "", category="Edible", unit="Each")
    state.add_package(LICENSE, "1A4060300002EE3000000001", gummies, 500)
    state.add_tags(LICENSE, [f"1A4060300002EE40000{n:05d}" for n in range(1, 51)])
    return state


def add_packages(state: MetrcState, count: int) -> list[str]:
    """``count`` more pre-roll packages of 100 g across five strains (for the benchmark), last
    changed a day ago, as most of a real license is."""
    yesterday = datetime.fromtimestamp(state.clock() - 86_400, UTC).isoformat()
    strains = ["Wedding Cake", "Blue Dream", "Gelato", "Sour Diesel", "Northern Lights"]
    items = {s: state.add_item(f"{s} Pre-Roll Lot", s) for s in strains} if count else {}
    labels = []
    for n in range(count):
        label = f"1A4060300002EE6{n:09d}"
        state.add_package(
            LICENSE, label, items[strains[n % len(strains)]], 100.0, LastModified=yesterday
        )
        labels.append(label)
    return labels
