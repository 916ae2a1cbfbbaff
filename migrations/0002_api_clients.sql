-- API clients (DESIGN.md §6): a projection of client.created / client.revoked events.
-- The secret is kept only as a salted SHA-256 (secrets are 256 random bits, so no slow hash is needed).
CREATE TABLE api_clients (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    scopes      TEXT    NOT NULL,
    secret_salt BLOB    NOT NULL,
    secret_hash BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    position    INTEGER NOT NULL
) STRICT;
