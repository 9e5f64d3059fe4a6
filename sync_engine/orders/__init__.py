"""Wholesale orders from Apex: fetched incrementally, filtered, turned into the packing list
and into the order lines the tracker reserves grams for (docs/apexapi.md)."""
