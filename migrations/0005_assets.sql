-- The asset index (DESIGN.md §4, §8): one row per asset, from asset.requested|uploaded|attached|deleted.
-- The bytes live under assets/ in the data directory, named by their SHA-256; events carry the hash.
CREATE TABLE assets (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    sender_type  TEXT    NOT NULL,
    channel_type TEXT    NOT NULL,
    sha256       TEXT,
    state        TEXT    NOT NULL CHECK (state IN ('requested', 'uploaded', 'attached', 'deleted')),
    conversation TEXT,
    message      TEXT,
    requested_by TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    uploaded_at  INTEGER,
    position     INTEGER NOT NULL
) STRICT;

CREATE INDEX assets_by_conversation ON assets (conversation, created_at) WHERE conversation IS NOT NULL;
CREATE INDEX assets_by_state ON assets (state, created_at);
