"""Parallel apex-decrements with repeated idempotency keys (docs/api.md)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import RunningTracker

TAG = "1A4060300055555555"


def test_parallel_decrements_apply_each_distinct_key_exactly_once(
    tracker: RunningTracker,
) -> None:
    """200 requests from 8 threads over 60 distinct keys: exactly 60 applied, grams exact."""
    tracker.create(TAG, grams=10_000)
    rng = random.Random(7)
    units_of = {f"apex-sale-{i}": rng.randint(1, 5) for i in range(60)}
    keys = list(units_of) + [rng.choice(list(units_of)) for _ in range(140)]
    rng.shuffle(keys)

    def send(chunk: list[str]) -> list[bool]:
        with httpx.Client(
            base_url=tracker.base_url, timeout=60, headers={"X-API-Key": tracker.api_key}
        ) as client:
            answers = []
            for key in chunk:
                response = client.post(
                    f"/api/finished-goods/{TAG}/apex-decrement",
                    json={"sku": "box_0_5g_6pk", "units": units_of[key], "idempotency_key": key},
                )
                assert response.status_code == 200, response.text
                answers.append(response.json()["applied"])
            return answers

    chunks = [keys[i::8] for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        applied = [flag for answers in pool.map(send, chunks) for flag in answers]

    assert sum(applied) == 60
    expected_grams = sum(units_of.values()) * 3  # a 6-pack of 0.5 g is 3 g
    package = tracker.package(TAG)
    assert package["grams_ordered"] == expected_grams
    assert package["available_grams"] == 10_000 - expected_grams
    history = tracker.client.get(f"/api/finished-goods/{TAG}/history").json()
    decrements = [h for h in history if h["action"] == "apex_decrement"]
    assert len(decrements) == 60
    assert sorted(h["note"] for h in decrements) == sorted(f"idempotency_key={k}" for k in units_of)
