-- The event log (DESIGN.md §3): global gapless positions, per-stream versions, a SHA-256 hash chain.
-- Append-only is enforced here, by triggers, not only by the code that writes it.
CREATE TABLE events (
    position       INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    stream         TEXT    NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    account        TEXT,
    actor          TEXT    NOT NULL,
    correlation_id TEXT,
    causation_id   TEXT,
    data           TEXT    NOT NULL CHECK (json_valid(data)),
    hash           BLOB    NOT NULL CHECK (length(hash) = 32),
    UNIQUE (stream, version)
) STRICT;

CREATE INDEX events_by_account ON events (account, position) WHERE account IS NOT NULL;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE is not allowed');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE is not allowed');
END;

-- INSERT OR REPLACE deletes the conflicting row without firing DELETE triggers (unless
-- recursive_triggers is on), so an insert that would replace an event is refused before it runs.
CREATE TRIGGER events_no_replace BEFORE INSERT ON events
WHEN NEW.position <= (SELECT max(position) FROM events)
    OR EXISTS (SELECT 1 FROM events WHERE id = NEW.id)
    OR EXISTS (SELECT 1 FROM events WHERE stream = NEW.stream AND version = NEW.version)
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: an INSERT may not replace an event');
END;

-- Each projection's name, code version and the last log position it has applied (DESIGN.md §4).
CREATE TABLE projection_state (
    name     TEXT    PRIMARY KEY,
    version  INTEGER NOT NULL,
    position INTEGER NOT NULL
) STRICT;
