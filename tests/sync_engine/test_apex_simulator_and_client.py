"""The Apex simulator keeps Apex's documented behaviour, and ApexClient copes with it."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from sync_engine.clients.apex import ApexClient
from sync_engine.clients.rate_limit import SlidingWindowLimiter
from sync_engine.clients.retry import PeerWait, backoff_delay
from sync_engine.errors import ApexError
from tests.sync_engine.conftest import RunningApex

JSON = {"Accept": "application/json", "Authorization": "Bearer sim-token"}


def test_auth_accept_and_required_filter(apex: RunningApex) -> None:
    """401 body without a token, 422 body without updated_at_from, the list envelope with it."""
    with httpx.Client(base_url=apex.base_url) as http:
        assert http.get("/v2/batches", headers={"Accept": "application/json"}).json() == {
            "message": "Unauthenticated."
        }
        missing = http.get("/v2/batches", headers=JSON)
        assert (missing.status_code, missing.json()["message"]) == (
            422,
            "The updated at from field is required.",
        )
        page = http.get(
            "/v2/batches",
            headers=JSON,
            params={"updated_at_from": "2000-01-01", "per_page": 5, "page": 2},
        ).json()
        assert [b["id"] for b in page["batches"]] == [1012, 1013, 1014, 1015, 1021]
        assert page["meta"] | {"from": 0} == {
            "current_page": 2,
            "last_page": 4,
            "per_page": 5,
            "total": 18,
            "from": 0,
            "to": 10,
        }
        assert page["links"]["next"].endswith("?page=3")  # the filters are not kept


def test_patch_is_sparse_refuses_negative_and_keeps_updated_at(apex: RunningApex) -> None:
    """PATCH sets quantity; a negative one is 422; the same value again keeps updated_at."""
    apex.state.batches[1001]["updated_at"] = "2020-01-01T00:00:00.000000Z"
    with httpx.Client(base_url=apex.base_url, headers=JSON) as http:
        same = http.patch("/v2/batches/1001", json={"quantity": 40}).json()["batch"]
        assert same["updated_at"] == "2020-01-01T00:00:00.000000Z"
        changed = http.put("/v2/batches/1001", json={"quantity": 41}).json()["batch"]
        assert (changed["quantity"], changed["name"]) == (41, "WC-1001")
        assert changed["updated_at"] != "2020-01-01T00:00:00.000000Z"
        bad = http.patch("/v2/batches/1001", json={"quantity": -1})
        assert (bad.status_code, list(bad.json()["errors"])) == (422, ["quantity"])
        assert http.patch("/v2/batches/99", json={"quantity": 1}).status_code == 404


def test_simulator_limits_to_15_requests_per_second(apex: RunningApex) -> None:
    """The 16th request inside one second is 429 with Retry-After: 1."""
    with httpx.Client(base_url=apex.base_url, headers=JSON) as http:
        answers = [http.get("/v1/welcome") for _ in range(16)]
    assert [a.status_code for a in answers[:15]] == [200] * 15
    assert answers[15].status_code == 429
    assert answers[15].headers["retry-after"] == "1"


def test_client_pages_through_everything_under_the_limit(apex: RunningApex) -> None:
    """1,200 batches come back over 3 pages of 500 with the same filters, with no 429."""
    for i in range(1200):
        apex.state.add_batch(101, i, batch_id=50_000 + i)

    async def fetch() -> list:
        async with httpx.AsyncClient() as http:
            client = ApexClient(http, apex.base_url, "sim-token")
            return await client.list_batches("2000-01-01 00:00:00")

    batches = asyncio.run(fetch())
    assert len(batches) == 1218 and len({b.id for b in batches}) == 1218
    lists = apex.state.requests_matching("GET", "/api/v2/batches")
    assert [("page=" + r.query.split("page=")[1].split("&")[0]) for r in lists] == [
        "page=1",
        "page=2",
        "page=3",
    ]
    assert all("updated_at_from" in r.query for r in lists)


def test_client_honours_retry_after_and_gives_clear_errors() -> None:
    """A 429 is retried after Retry-After; a 401 says how to fix the token; no retry on 422."""
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if request.url.path.endswith("/welcome") and len(calls) == 1:
            return httpx.Response(429, headers={"Retry-After": "0.3"}, json={"message": "slow"})
        if request.url.path.endswith("/welcome"):
            return httpx.Response(200, json={"message": "hi"})
        if request.url.path.endswith("/v2/batches/1"):
            return httpx.Response(422, json={"message": "The quantity field must be at least 0."})
        return httpx.Response(401, json={"message": "Unauthenticated."})

    async def run() -> list[str]:
        errors = []
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            client = ApexClient(http, "http://apex/api", "t")
            await client.welcome()
            for call in (client.set_batch_quantity(1, -1), client.list_batches("2000-01-01")):
                try:
                    await call
                except ApexError as exc:
                    errors.append(str(exc))
        return errors

    errors = asyncio.run(run())
    assert calls[1] - calls[0] >= 0.29
    assert "The quantity field must be at least 0." in errors[0]
    assert "generate a new token in Apex Trading and update api_token" in errors[1]
    assert len(calls) == 4  # 429 retried once; 422 and 401 not retried


def test_sliding_window_limiter_math() -> None:
    """At most `limit` acquisitions in any window; the next one waits exactly until it fits."""
    now = [0.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    async def run() -> None:
        limiter = SlidingWindowLimiter(3, window=1.0, clock=lambda: now[0], sleep=fake_sleep)
        for _ in range(7):
            await limiter.acquire()
            now[0] += 0.1

    asyncio.run(run())
    assert [round(s, 3) for s in slept] == [0.7, 0.7]


@pytest.mark.parametrize(("failures", "cap"), [(1, 10), (3, 10), (6, 10), (20, 60), (500, 60)])
def test_backoff_doubles_with_jitter_and_is_capped(failures: int, cap: float) -> None:
    """Delay after n failures lies in [d/2, d] with d = min(cap, 0.5 * 2**(n-1))."""
    expected = min(cap, 0.5 * 2 ** min(failures - 1, 60))
    for _ in range(50):
        assert expected / 2 <= backoff_delay(failures, cap) <= expected
    assert backoff_delay(0, cap) == 0.0
    assert PeerWait(cap=60).cap == 60


def test_client_retries_a_timeout(apex: RunningApex) -> None:
    """A request that hangs past the client's timeout is retried and then succeeds."""
    apex.state.faults.timeouts = 1
    apex.state.faults.timeout_seconds = 2.0

    async def run() -> float | None:
        async with httpx.AsyncClient(timeout=0.3) as http:
            client = ApexClient(
                http, apex.base_url, "sim-token", wait=PeerWait(initial=0.05, cap=0.1)
            )
            batch = await client.set_batch_quantity(1001, 77)
            return batch.quantity

    assert asyncio.run(run()) == 77
    assert len(apex.state.requests_matching("PATCH")) >= 1
