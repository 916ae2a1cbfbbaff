-- The vault's keys are looked up and shredded by id only: keyed by it (WITHOUT ROWID), a key is one
-- b-tree entry instead of a row and an index entry.
CREATE TABLE vault_keys_keyed (
    id         TEXT    PRIMARY KEY,
    wrapped    BLOB    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO vault_keys_keyed (id, wrapped, created_at) SELECT id, wrapped, created_at FROM vault_keys;
DROP TABLE vault_keys;
ALTER TABLE vault_keys_keyed RENAME TO vault_keys;
