-- Each name of the log is stored once (issue 18, "say each fact once"): a stream, a type, an account and
-- an actor appear in every event that carries them, and in the (stream, version) and account indexes as
-- well. They move to `event_names`, and the log's rows, `event_records`, refer to them by integer id.
-- `events` becomes a view with the columns it always had, so every reader, the hash chain and the
-- documented layout stay as they were; an INSERT into the view interns the names it brings.
CREATE TABLE event_names (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
) STRICT;

CREATE TABLE event_records (
    position       INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE,
    stream         INTEGER NOT NULL,
    version        INTEGER NOT NULL CHECK (version >= 1),
    type           INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    recorded_at    INTEGER NOT NULL,
    account        INTEGER,
    actor          INTEGER NOT NULL,
    correlation_id TEXT,
    causation_id   TEXT,
    data           TEXT    NOT NULL CHECK (json_valid(data)),
    hash           BLOB    NOT NULL CHECK (length(hash) = 32),
    UNIQUE (stream, version)
) STRICT;

-- The few names that recur in every event get the smallest ids (one byte in a record): types, then
-- actors and accounts; streams follow in the order they began.
INSERT INTO event_names (name) SELECT type FROM events GROUP BY type ORDER BY count(*) DESC;
INSERT INTO event_names (name)
    SELECT actor FROM events WHERE actor NOT IN (SELECT name FROM event_names)
    GROUP BY actor ORDER BY count(*) DESC;
INSERT INTO event_names (name)
    SELECT account FROM events WHERE account IS NOT NULL AND account NOT IN (SELECT name FROM event_names)
    GROUP BY account ORDER BY count(*) DESC;
INSERT INTO event_names (name)
    SELECT stream FROM events WHERE stream NOT IN (SELECT name FROM event_names)
    GROUP BY stream ORDER BY min(position);

INSERT INTO event_records
    SELECT e.position, e.id, s.id, e.version, t.id, e.schema_version, e.recorded_at, a.id, w.id,
           e.correlation_id, e.causation_id, e.data, e.hash
    FROM events AS e
    JOIN event_names AS s ON s.name = e.stream
    JOIN event_names AS t ON t.name = e.type
    LEFT JOIN event_names AS a ON a.name = e.account
    JOIN event_names AS w ON w.name = e.actor
    ORDER BY e.position;

DROP TABLE events;

CREATE INDEX events_by_account ON event_records (account, position) WHERE account IS NOT NULL;

CREATE TRIGGER events_no_update BEFORE UPDATE ON event_records
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE is not allowed');
END;

CREATE TRIGGER events_no_delete BEFORE DELETE ON event_records
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE is not allowed');
END;

-- A name, once given an id, keeps it: every record that refers to it depends on that.
CREATE TRIGGER event_names_no_update BEFORE UPDATE ON event_names
BEGIN
    SELECT RAISE(ABORT, 'event names are append-only: UPDATE is not allowed');
END;

CREATE TRIGGER event_names_no_delete BEFORE DELETE ON event_names
BEGIN
    SELECT RAISE(ABORT, 'event names are append-only: DELETE is not allowed');
END;

CREATE VIEW events (
    position, id, stream, version, type, schema_version, recorded_at, account, actor,
    correlation_id, causation_id, data, hash
) AS
SELECT r.position, r.id, s.name, r.version, t.name, r.schema_version, r.recorded_at, a.name, w.name,
       r.correlation_id, r.causation_id, r.data, r.hash
FROM event_records AS r
JOIN event_names AS s ON s.id = r.stream
JOIN event_names AS t ON t.id = r.type
LEFT JOIN event_names AS a ON a.id = r.account
JOIN event_names AS w ON w.id = r.actor;

-- An append through the view: the names it brings that are new get their ids first. The interning
-- INSERTs add a row only when none exists, so they never conflict, and an outer INSERT OR REPLACE
-- (whose conflict policy overrides a trigger's own) cannot give a name a new id: it reaches
-- `event_records`, where the REPLACE's delete fires `events_no_delete` (recursive triggers, 0007).
CREATE TRIGGER events_append INSTEAD OF INSERT ON events
BEGIN
    INSERT INTO event_names (name)
        SELECT NEW.stream WHERE NOT EXISTS (SELECT 1 FROM event_names WHERE name = NEW.stream);
    INSERT INTO event_names (name)
        SELECT NEW.type WHERE NOT EXISTS (SELECT 1 FROM event_names WHERE name = NEW.type);
    INSERT INTO event_names (name)
        SELECT NEW.account WHERE NEW.account IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM event_names WHERE name = NEW.account);
    INSERT INTO event_names (name)
        SELECT NEW.actor WHERE NOT EXISTS (SELECT 1 FROM event_names WHERE name = NEW.actor);
    INSERT INTO event_records (
        position, id, stream, version, type, schema_version, recorded_at, account, actor,
        correlation_id, causation_id, data, hash
    ) VALUES (
        NEW.position, NEW.id,
        (SELECT id FROM event_names WHERE name = NEW.stream),
        NEW.version,
        (SELECT id FROM event_names WHERE name = NEW.type),
        NEW.schema_version, NEW.recorded_at,
        (SELECT id FROM event_names WHERE name = NEW.account),
        (SELECT id FROM event_names WHERE name = NEW.actor),
        NEW.correlation_id, NEW.causation_id, NEW.data, NEW.hash
    );
END;

CREATE TRIGGER events_view_no_update INSTEAD OF UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: UPDATE is not allowed');
END;

CREATE TRIGGER events_view_no_delete INSTEAD OF DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only: DELETE is not allowed');
END;
