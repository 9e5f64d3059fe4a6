"""HTTP clients of the engine's two peers; each takes an injected ``httpx.AsyncClient``."""
