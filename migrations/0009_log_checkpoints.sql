-- Signed checkpoints of the log's head (tamper evidence, DESIGN.md §3): the server records the
-- position and hash of the chain's tip every N events or S seconds and at shutdown, signed with an
-- Ed25519 key derived from the master key. `hubstore verify` checks every one: a log that ends before
-- its latest checkpoint, or whose hash at a checkpointed position differs, was cut or rewritten.
-- Append-only, like the events.
CREATE TABLE log_checkpoints (
    id          INTEGER PRIMARY KEY,
    position    INTEGER NOT NULL CHECK (position >= 1),
    head_hash   BLOB    NOT NULL CHECK (length(head_hash) = 32),
    recorded_at INTEGER NOT NULL,
    signature   BLOB    NOT NULL CHECK (length(signature) = 64)
) STRICT;

CREATE TRIGGER log_checkpoints_no_update BEFORE UPDATE ON log_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'log checkpoints are append-only: UPDATE is not allowed');
END;

CREATE TRIGGER log_checkpoints_no_delete BEFORE DELETE ON log_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'log checkpoints are append-only: DELETE is not allowed');
END;
