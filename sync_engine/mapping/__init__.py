"""From Apex product names to tracker SKUs: the parser and the batch mapping."""
