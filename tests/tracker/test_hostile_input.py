"""Hostile values through every door (docs/api.md): every staff form and every JSON route.

Hypothesis sends zeros, negatives, huge numbers, NaN, text, long strings, formulas, markup and
odd unicode. Whatever it sends: no 5xx, /apex-calculate still answers 200 with no package it
cannot compute (nothing invalid was stored), and a refused request changed nothing.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import RunningTracker, running_tracker
from tests.tracker.staff import StaffClient

TAG = "1A4060300003BB1000000099"
PASSWORD = "hostile-test-pass"
HOLDER = "office-pc"

HOSTILE_TEXT = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "-50",
            "-0",
            "0.0001",
            "1e309",
            "-1e309",
            "nan",
            "NaN",
            "inf",
            "-Infinity",
            "99999999999999999999999",
            "10000001",
            "9223372036854775808",
            "=1+1",
            "+1",
            "@SUM(A1)",
            '=IMAGE("http://example.invalid/x")',
            "<script>alert(1)</script>",
            "<b>bold</b>",
            "' OR '1'='1",
            '"; DROP TABLE packages; --',
            "",
            " ",
            "\t\n",
            "\x00",
            "\u202eevil",
            "\U0001d7d8",  # mathematical double-struck zero
            "\uff21\uff11",  # fullwidth A1
            "١٢",
            "🌿" * 40,
            "a" * 5000,
            "1,5",
            "0x10",
            "1_000",
            "true",
            "null",
            "[]",
        ]
    ),
    st.text(max_size=40),
    st.integers().map(str),
    st.floats().map(repr),
)
HOSTILE_JSON = st.one_of(
    HOSTILE_TEXT,
    st.integers(),
    st.floats(allow_nan=False),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _line(**fields: Any) -> dict[str, Any]:
    return {
        "order_id": 10,
        "item_id": 501,
        "invoice_number": "INV-10",
        "store": "Green Leaf",
        "strain": "Blue Dream",
        "sku": "singles_1g",
        "units_ordered": 2,
        "units_packed": 0,
        "metrc_number": None,
        "state": "open",
    } | fields


class World:
    """One tracker with a package, a batch in testing and order lines, signed in as an admin."""

    def __init__(self, tracker: RunningTracker) -> None:
        self.tracker = tracker
        tracker.services.users.create("maria", PASSWORD, "admin")
        tracker.services.users.create("sam", PASSWORD, "staff")
        tracker.create(TAG, strain="Blue Dream", grams=500)
        api = tracker.client
        batch = api.post(
            "/api/batches",
            json={
                "strain": "Gelato",
                "flower_grams_in": 300,
                "preroll_size_g": 1,
                "target_count": 9,
            },
        ).json()
        self.batch = batch["id"]
        for _ in range(2):
            api.post(f"/api/batches/{self.batch}/advance", json={})
        api.post("/api/sync/lease", json={"holder": HOLDER, "ttl_seconds": 3600})
        lines = [_line(), _line(item_id=502, units_ordered=1)]
        api.put("/api/sync/order-lines", json={"holder": HOLDER, "lines": lines})
        api.put("/api/sync/order-lines", json={"holder": HOLDER, "lines": lines[1:]})  # 501 missing
        self.staff = StaffClient(tracker.base_url, "maria", PASSWORD)

    def state(self) -> tuple[Any, ...]:
        """Everything a refused request must leave as it was."""
        api = self.tracker.client
        return (
            api.get("/apex-calculate").content,
            api.get("/api/changes").json()["cursor"],
            api.get("/api/batches").content,
            api.get("/api/sync/order-lines").content,
            api.get("/api/sync/order-lines", params={"state": "released"}).content,
            [(u.username, u.role, u.enabled) for u in self.tracker.services.users.list_users()],
        )

    def check(self, response: httpx.Response, before: tuple[Any, ...]) -> None:
        where = f"{response.request.method} {response.request.url.path}"
        assert response.status_code < 500, f"{where} -> {response.status_code}: {response.text}"
        calculation = self.tracker.client.get("/apex-calculate")
        assert calculation.status_code == 200, calculation.text
        problems = {k: v["problem"] for k, v in calculation.json().items() if "problem" in v}
        assert problems == {}, f"{where} stored something impossible: {problems}"
        if response.status_code >= 400:
            assert self.state() == before, (
                f"{where} was refused ({response.status_code}) but changed data"
            )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_tracker(tmp_path_factory.mktemp("hostile")) as tracker:
        built = World(tracker)
        yield built
        built.staff.close()


def _forms(world: World) -> dict[str, dict[str, str]]:
    """Every staff form: path → valid fields (hypothesis replaces some with hostile values)."""
    pkg, batch = f"/finished-goods/{TAG}", f"/batches/{world.batch}"
    return {
        "/batches/": {
            "strain": "Gelato",
            "flower_grams_in": "100",
            "preroll_size_g": "0.5",
            "target_count": "10",
            "source_metrc": "",
            "notes": "",
        },
        f"{batch}/advance": {"to": "", "reason": "", "override": "", "finished_metrc": TAG},
        f"{batch}/update": {"prerolls_out": "5", "waste_grams": "1.5", "notes": "n"},
        f"{batch}/weight-check": {"weights": "1.0 0.99 1.01"},
        f"{pkg}/adjust": {
            "delta_grams": "-1",
            "reason": "Inventory Audit",
            "note": "",
            "settles_apex_sales": "",
        },
        f"{pkg}/override": {"physical_override_grams": "480"},
        f"{pkg}/status": {"status": "active"},
        f"{pkg}/sku-settings": {
            "excluded.singles_0_5g": "",
            "manual_units.singles_0_5g": "",
            "excluded.singles_1g": "on",
            "manual_units.singles_1g": "3",
        },
        f"{pkg}/custom-sku": {
            "key": "cocoa_blunt_1g",
            "name": "Cocoa Blunt",
            "grams_per_unit": "1",
            "pack_size": "1",
        },
        f"{pkg}/custom-sku#delete": {"delete": "cocoa_blunt_1g"},
        f"{pkg}/hold": {"grams": "2", "hold_reason": "Wholesale"},
        f"{pkg}/hold#release": {"release": "1"},
        "/order-lines/501/release": {},
        "/order-lines/501/reserve": {},
        "/settings/tolerances": {"unit_tolerance_pct": "10", "mean_tolerance_pct": "5"},
        "/settings/users": {"username": "newbie", "password": "long-enough-pass", "role": "staff"},
        "/settings/users/enabled": {"username": "sam", "enabled": ""},
        "/settings/users/password": {"username": "sam", "new_password": "another-long-pass"},
        "/account/password": {
            "current_password": "not-the-password",
            "new_password": "x" * 12,
            "repeat_password": "x" * 12,
        },
    }


@settings(
    max_examples=250,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_staff_form_breaks_on_hostile_values(world: World, data: st.DataObject) -> None:
    """Any form, any hostile values: a page or a field error, never a 5xx or a stored
    impossibility; a refused form changes nothing."""
    forms = _forms(world)
    path = data.draw(st.sampled_from(sorted(forms)), label="form")
    fields = dict(forms[path])
    hostile = data.draw(
        st.dictionaries(st.sampled_from(sorted(fields) or ["x"]), HOSTILE_TEXT, min_size=1),
        label="hostile fields",
    )
    before = world.state()
    response = world.staff.post(path.split("#")[0], fields | hostile)
    world.check(response, before)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segment=HOSTILE_TEXT)
def test_no_page_breaks_on_hostile_paths(world: World, segment: str) -> None:
    """Hostile package tags, batch ids and order-line ids in page addresses."""
    quoted = urllib.parse.quote(segment, safe="") or "x"
    for page in (f"/finished-goods/{quoted}", f"/batches/{quoted}"):
        before = world.state()
        world.check(world.staff.http.get(page), before)
    for form in (f"/finished-goods/{quoted}/hold", f"/order-lines/{quoted}/release"):
        before = world.state()
        world.check(world.staff.post(form, {"grams": "1", "hold_reason": "x"}), before)


def _routes(world: World) -> list[tuple[str, str, dict[str, Any] | None, dict[str, Any]]]:
    """Every JSON route: (method, path, valid body, valid query)."""
    pkg, batch = f"/api/finished-goods/{TAG}", f"/api/batches/{world.batch}"
    custom = {"key": "dart_08", "name": "CannaDart", "grams_per_unit": 0.8, "pack_size": 1}
    return [
        (
            "POST",
            "/api/finished-goods",
            {"metrc_number": "1A4060300003BB1000000100", "strain": "Gelato", "initial_grams": 10},
            {},
        ),
        (
            "PATCH",
            pkg,
            {"physical_override_grams": 400, "status": "active", "strain": "Blue Dream"},
            {},
        ),
        ("POST", f"{pkg}/adjust", {"delta_grams": -1, "reason": "Waste", "note": "x"}, {}),
        (
            "POST",
            f"{pkg}/apex-settings",
            {"singles_1g": {"excluded": False, "manual_units": 2}},
            {},
        ),
        (
            "POST",
            f"{pkg}/apex-decrement",
            {"sku": "singles_1g", "units": 1, "idempotency_key": "k1"},
            {},
        ),
        ("POST", f"{pkg}/custom-skus", custom, {}),
        ("PUT", f"{pkg}/custom-skus", custom, {}),
        ("DELETE", f"{pkg}/custom-skus", None, {"key": "dart_08"}),
        ("POST", f"{pkg}/holds", {"grams": 1, "reason": "Wholesale"}, {}),
        ("DELETE", f"{pkg}/holds", None, {"id": 1}),
        ("GET", "/api/finished-goods", None, {"status": "active", "strain": "Blue Dream"}),
        (
            "POST",
            "/api/batches",
            {"strain": "Gelato", "flower_grams_in": 10, "preroll_size_g": 0.5, "target_count": 5},
            {},
        ),
        ("PATCH", batch, {"prerolls_out": 5, "waste_grams": 1, "notes": "n"}, {}),
        ("POST", f"{batch}/advance", {"to": "rolling", "reason": "redo"}, {}),
        ("POST", f"{batch}/weight-checks", {"weights_grams": [1.0, 0.99]}, {}),
        ("GET", "/api/batches", None, {"stage": "testing", "active": "true"}),
        ("PUT", "/api/sync/order-lines", {"holder": HOLDER, "lines": [_line(item_id=502)]}, {}),
        ("GET", "/api/sync/order-lines", None, {"state": "missing"}),
        ("POST", "/api/sync/lease", {"holder": HOLDER, "ttl_seconds": 3600}, {}),
        ("GET", "/api/changes", None, {"since": 0}),
    ]


@settings(max_examples=250, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_json_route_breaks_on_hostile_values(world: World, data: st.DataObject) -> None:
    """Any route, hostile values in the body (nested too) or the query: a 4xx naming the field,
    never a 5xx or a stored impossibility; a refused request changes nothing."""
    method, path, body, query = data.draw(st.sampled_from(_routes(world)), label="route")
    if body is not None and data.draw(st.booleans(), label="hostile body"):
        body = dict(body)
        target = body
        if "lines" in body:  # a field of an order line
            target = body["lines"][0] = dict(body["lines"][0])
        elif "singles_1g" in body:
            target = body["singles_1g"] = dict(body["singles_1g"])
        elif "weights_grams" in body and data.draw(st.booleans()):
            body["weights_grams"] = [data.draw(HOSTILE_JSON)]
            target = {}
        for key in data.draw(
            st.lists(st.sampled_from(sorted(target) or ["x"]), min_size=1, max_size=3)
        ):
            target[key] = data.draw(HOSTILE_JSON, label=f"body.{key}")
    else:
        query = dict(query)
        if "since" not in query:  # a long wait would only slow the test down
            key = data.draw(st.sampled_from(sorted(query) or ["x"]), label="query key")
            query[key] = data.draw(HOSTILE_TEXT, label=f"query.{key}")
    before = world.state()
    kwargs: dict[str, Any] = {"params": query}
    if body is not None:
        # json.dumps writes NaN and Infinity bare: malformed JSON is hostile input too.
        kwargs["content"] = json.dumps(body).encode()
        kwargs["headers"] = {"Content-Type": "application/json"}
    response = world.tracker.client.request(method, path, **kwargs)
    world.check(response, before)
    if response.status_code == 422:
        assert response.json()["field"], response.text


def test_the_issue_examples_are_field_errors_and_change_nothing(world: World) -> None:
    """A staff member's custom SKU with pack size 0 and manual units -50 are form errors next to
    the field; /apex-calculate keeps answering 200 for everyone."""
    world.tracker.services.users.create("floor-lead", PASSWORD, "staff")
    before = world.state()
    staff = StaffClient(world.tracker.base_url, "floor-lead", PASSWORD)
    response = staff.post(
        f"/finished-goods/{TAG}/custom-sku",
        {"key": "zero_pack", "name": "Zero", "grams_per_unit": "1", "pack_size": "0"},
    )
    assert (response.status_code, staff.errors(response)) == (
        422,
        {"pack_size": "must be at least 1"},
    )
    response = staff.post(f"/finished-goods/{TAG}/sku-settings", {"manual_units.singles_1g": "-50"})
    assert response.status_code == 422
    assert "must be at least 0" in response.text
    assert world.state() == before
    assert world.tracker.client.get("/apex-calculate").status_code == 200
    staff.close()
