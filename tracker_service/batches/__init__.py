"""Production batches: grinding → rolling → testing → packaging → complete (docs/api.md)."""
