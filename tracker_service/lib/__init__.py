"""Pieces shared by every feature of the tracker: grams, errors, storage, clock."""
