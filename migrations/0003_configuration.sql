-- Configuration projection (DESIGN.md §4): the current state of the six Conversation Manager
-- resources, what refers to what, and every version for "as of" reads. Rebuildable from
-- <kind>.created|updated|deleted events, whose data holds the full state (secrets sealed).
CREATE TABLE config_resources (
    kind        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    unique_key  TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (json_valid(state)),
    created_at  INTEGER NOT NULL,
    modified_at INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;

CREATE UNIQUE INDEX config_resources_by_unique_key ON config_resources (kind, unique_key);
CREATE INDEX config_resources_by_created ON config_resources (kind, created_at, id);

CREATE TABLE config_references (
    kind        TEXT NOT NULL,
    id          TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    PRIMARY KEY (kind, id, target_kind, target_id)
) STRICT;

CREATE INDEX config_references_by_target ON config_references (target_kind, target_id);

CREATE TABLE config_history (
    kind        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    position    INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    change      TEXT    NOT NULL CHECK (change IN ('created', 'updated', 'deleted')),
    state       TEXT,
    PRIMARY KEY (kind, id, position)
) STRICT;

CREATE INDEX config_history_by_position ON config_history (position);

-- Per-record data keys, wrapped (AES-GCM) by a key derived from the master key (DESIGN.md §2, §6).
CREATE TABLE vault_keys (
    id         TEXT    PRIMARY KEY,
    wrapped    BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
