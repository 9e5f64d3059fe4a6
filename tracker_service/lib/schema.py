"""The SQLite schema as an ordered list of migrations; ``PRAGMA user_version`` is the index.

Append a migration to change the schema; never edit one that has shipped.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MIGRATIONS"]

_V1 = """
CREATE TABLE packages (
    metrc_number      TEXT PRIMARY KEY,
    strain            TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('active', 'archived', 'orphaned')),
    initial_mg        INTEGER NOT NULL CHECK (initial_mg >= 0),
    current_mg        INTEGER NOT NULL CHECK (current_mg >= 0),
    override_mg       INTEGER CHECK (override_mg >= 0),
    sold_mg           INTEGER NOT NULL DEFAULT 0 CHECK (sold_mg >= 0),
    sku_settings      TEXT NOT NULL DEFAULT '{}',
    custom_skus       TEXT NOT NULL DEFAULT '{}',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    status_changed_at TEXT NOT NULL
);
CREATE INDEX packages_strain ON packages (strain COLLATE NOCASE, created_at);

CREATE TABLE holds (
    id           INTEGER PRIMARY KEY,
    metrc_number TEXT NOT NULL REFERENCES packages (metrc_number),
    grams_mg     INTEGER NOT NULL CHECK (grams_mg > 0),
    reason       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX holds_package ON holds (metrc_number);

CREATE TABLE decrements (
    metrc_number    TEXT NOT NULL REFERENCES packages (metrc_number),
    idempotency_key TEXT NOT NULL,
    sku             TEXT NOT NULL,
    units           INTEGER NOT NULL,
    grams_mg        INTEGER NOT NULL,
    applied_at      TEXT NOT NULL,
    PRIMARY KEY (metrc_number, idempotency_key)
);

CREATE TABLE order_lines (
    item_id         INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL,
    invoice_number  TEXT NOT NULL,
    store           TEXT NOT NULL,
    strain          TEXT NOT NULL,
    sku             TEXT NOT NULL,
    units_ordered   INTEGER NOT NULL,
    units_packed    INTEGER NOT NULL,
    requested_metrc TEXT,
    metrc_number    TEXT REFERENCES packages (metrc_number),
    state           TEXT NOT NULL CHECK (state IN ('open', 'shipped', 'cancelled', 'removed')),
    reserved_mg     INTEGER NOT NULL DEFAULT 0,
    packed_mg       INTEGER NOT NULL DEFAULT 0,
    shipped_mg      INTEGER NOT NULL DEFAULT 0,
    first_seen_at   TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX order_lines_package ON order_lines (metrc_number, state);

CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    metrc_number TEXT NOT NULL,
    at           TEXT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    field        TEXT NOT NULL,
    before_mg    INTEGER,
    after_mg     INTEGER,
    before_text  TEXT,
    after_text   TEXT,
    reason       TEXT NOT NULL,
    note         TEXT
);
CREATE INDEX audit_log_package ON audit_log (metrc_number, id);
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    metrc_number TEXT NOT NULL,
    kind         TEXT NOT NULL,
    at           TEXT NOT NULL
);

CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY,
    key_hash   TEXT NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
    created_at    TEXT NOT NULL
);

CREATE TABLE sync_lease (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    holder     TEXT NOT NULL,
    expires_at REAL NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_V2 = """
CREATE TABLE batches (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    strain          TEXT NOT NULL,
    source_metrc    TEXT,
    flower_in_mg    INTEGER NOT NULL CHECK (flower_in_mg > 0),
    preroll_size_mg INTEGER NOT NULL CHECK (preroll_size_mg > 0),
    target_count    INTEGER NOT NULL CHECK (target_count >= 0),
    stage           TEXT NOT NULL CHECK (stage IN ('grinding', 'rolling', 'testing',
                                                   'packaging', 'complete', 'cancelled')),
    prerolls_out    INTEGER NOT NULL DEFAULT 0 CHECK (prerolls_out >= 0),
    waste_mg        INTEGER NOT NULL DEFAULT 0 CHECK (waste_mg >= 0),
    notes           TEXT NOT NULL DEFAULT '',
    finished_metrc  TEXT REFERENCES packages (metrc_number),
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    completed_at    TEXT
);
CREATE INDEX batches_stage ON batches (stage);

CREATE TABLE batch_transitions (
    id         INTEGER PRIMARY KEY,
    batch_id   INTEGER NOT NULL REFERENCES batches (id),
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    from_stage TEXT,
    to_stage   TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    override   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX batch_transitions_batch ON batch_transitions (batch_id, id);

CREATE TABLE weight_checks (
    id            INTEGER PRIMARY KEY,
    batch_id      INTEGER NOT NULL REFERENCES batches (id),
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    weights_mg    TEXT NOT NULL,
    passed        INTEGER NOT NULL,
    mean_mg       INTEGER NOT NULL,
    unit_tol_bp   INTEGER NOT NULL,
    mean_tol_bp   INTEGER NOT NULL
);
CREATE INDEX weight_checks_batch ON weight_checks (batch_id, id);
"""

_V3 = """
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""

# Strains match by one key (preroll_contract.strain_key, registered in SQLite as strain_key());
# users can be disabled; order lines are never released by silence: an open line missing from
# ApexAPI's report keeps its grams (missing_since) until a person releases it.
_V4 = """
ALTER TABLE packages ADD COLUMN strain_key TEXT NOT NULL DEFAULT '';
UPDATE packages SET strain_key = strain_key(strain);
DROP INDEX packages_strain;
CREATE INDEX packages_strain_key ON packages (strain_key, status, created_at);

ALTER TABLE users ADD COLUMN disabled_at TEXT;

CREATE TABLE order_lines_v4 (
    item_id         INTEGER PRIMARY KEY,
    order_id        INTEGER NOT NULL,
    invoice_number  TEXT NOT NULL,
    store           TEXT NOT NULL,
    strain          TEXT NOT NULL,
    sku             TEXT NOT NULL,
    units_ordered   INTEGER NOT NULL,
    units_packed    INTEGER NOT NULL,
    requested_metrc TEXT,
    metrc_number    TEXT REFERENCES packages (metrc_number),
    state           TEXT NOT NULL CHECK (state IN ('open', 'shipped', 'cancelled', 'released')),
    reserved_mg     INTEGER NOT NULL DEFAULT 0,
    packed_mg       INTEGER NOT NULL DEFAULT 0,
    shipped_mg      INTEGER NOT NULL DEFAULT 0,
    missing_since   TEXT,
    released_by     TEXT,
    released_at     TEXT,
    reported_after_release_at TEXT,
    first_seen_at   TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
INSERT INTO order_lines_v4 (item_id, order_id, invoice_number, store, strain, sku,
    units_ordered, units_packed, requested_metrc, metrc_number, state, reserved_mg, packed_mg,
    shipped_mg, released_by, released_at, first_seen_at, updated_at)
SELECT item_id, order_id, invoice_number, store, strain, sku, units_ordered, units_packed,
    requested_metrc, metrc_number,
    CASE state WHEN 'removed' THEN 'released' ELSE state END,
    reserved_mg, packed_mg, shipped_mg,
    CASE state WHEN 'removed' THEN 'apexapi (no longer reported)' END,
    CASE state WHEN 'removed' THEN updated_at END,
    first_seen_at, updated_at
FROM order_lines;
DROP TABLE order_lines;
ALTER TABLE order_lines_v4 RENAME TO order_lines;
CREATE INDEX order_lines_package ON order_lines (metrc_number, state);
CREATE INDEX order_lines_state ON order_lines (state, item_id);
"""

# An order line's grams may sit on several packages of its strain (oversold demand reserves
# what the strain has, oldest package first; docs/api.md "Order lines"): one row per package.
# ``order_lines`` keeps the totals and the first package (``metrc_number``) for lists and
# queries; ``short_units`` is what no package could cover.
_V5 = """
CREATE TABLE order_line_parts (
    item_id      INTEGER NOT NULL REFERENCES order_lines (item_id),
    metrc_number TEXT NOT NULL REFERENCES packages (metrc_number),
    position     INTEGER NOT NULL,
    reserved_mg  INTEGER NOT NULL DEFAULT 0 CHECK (reserved_mg >= 0),
    packed_mg    INTEGER NOT NULL DEFAULT 0 CHECK (packed_mg >= 0),
    shipped_mg   INTEGER NOT NULL DEFAULT 0 CHECK (shipped_mg >= 0),
    PRIMARY KEY (item_id, metrc_number)
);
CREATE INDEX order_line_parts_package ON order_line_parts (metrc_number);
INSERT INTO order_line_parts (item_id, metrc_number, position, reserved_mg, packed_mg,
    shipped_mg)
SELECT item_id, metrc_number, 0, MAX(reserved_mg, 0), MAX(packed_mg, 0), MAX(shipped_mg, 0)
FROM order_lines
WHERE state IN ('open', 'shipped') AND metrc_number IN (SELECT metrc_number FROM packages);
ALTER TABLE order_lines ADD COLUMN short_units INTEGER NOT NULL DEFAULT 0;
"""

# METRC sync (docs/metrc.md): what METRC last said of each package, the packages whose
# grams disagree with it, and the outbox of changes for METRC, kept until METRC has them.
# Reports (README, "Reports") read the audit log by date and by package field.
_V6 = """
CREATE TABLE metrc_packages (
    metrc_number  TEXT PRIMARY KEY,
    metrc_id      INTEGER NOT NULL,
    metrc_mg      INTEGER NOT NULL,
    unit          TEXT NOT NULL,
    item_name     TEXT NOT NULL,
    unit_weight_mg INTEGER,
    last_modified TEXT NOT NULL,
    active        INTEGER NOT NULL,
    seen_at       TEXT NOT NULL
);

CREATE TABLE metrc_drift (
    metrc_number TEXT PRIMARY KEY REFERENCES packages (metrc_number),
    tracker_mg   INTEGER NOT NULL,
    metrc_mg     INTEGER NOT NULL,
    since        TEXT NOT NULL
);

CREATE TABLE metrc_outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('adjust', 'create')),
    metrc_number    TEXT NOT NULL,
    body            TEXT NOT NULL,
    delta_mg        INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL CHECK (state IN ('awaiting_review', 'pending', 'sent',
                                                   'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    uncertain       INTEGER NOT NULL DEFAULT 0,
    before_mg       INTEGER,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    metrc_ids       TEXT,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    reviewed_by     TEXT,
    sent_at         TEXT
);
CREATE INDEX metrc_outbox_state ON metrc_outbox (state, id);
CREATE INDEX metrc_outbox_package ON metrc_outbox (metrc_number, id);

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_field ON audit_log (metrc_number, field, id);
CREATE INDEX batches_completed ON batches (completed_at);
"""

MIGRATIONS: Final[tuple[str, ...]] = (_V1, _V2, _V3, _V4, _V5, _V6)
