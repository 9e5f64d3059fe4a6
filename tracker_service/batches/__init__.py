"""Production batches: grinding → rolling → testing → packaging → complete (SPEC §2.1)."""
