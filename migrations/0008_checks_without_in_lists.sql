-- SQLite checks `x IN ('a', 'b', 'c')` by building a temporary b-tree of the list, every time the
-- constraint is checked: for these tables on every insert, and on every update of the column. That
-- was five temporary b-trees per message in the writer (the message and outbox rows, the conversation
-- row, and both rows again when the delivery finished), about 2.4 µs each. The same constraints as
-- comparisons cost almost nothing. The tables are rebuilt with the rows, columns and indexes they had
-- (SQLite cannot change a CHECK constraint in place).

CREATE TABLE conversations_rebuilt (
    id              TEXT    PRIMARY KEY,
    account         TEXT    NOT NULL,
    account_address TEXT    NOT NULL,
    channel_type    TEXT    NOT NULL,
    entry_point     TEXT,
    customer        TEXT    NOT NULL,
    -- conversation.customer as first sent (name, type, attributes, contacts).
    customer_state  TEXT    CHECK (customer_state IS NULL OR json_valid(customer_state)),
    contact         TEXT,
    origin          TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state = 'active' OR state = 'escalated' OR state = 'ended'),
    escalated       INTEGER NOT NULL DEFAULT 0,
    assigned_agent  TEXT,
    queue           TEXT,
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    last_activity   INTEGER NOT NULL,
    message_count   INTEGER NOT NULL DEFAULT 0,
    position        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO conversations_rebuilt (id, account, account_address, channel_type, entry_point, customer,
    customer_state, contact, origin, state, escalated, assigned_agent, queue, started_at, ended_at,
    last_activity, message_count, position)
SELECT id, account, account_address, channel_type, entry_point, customer, customer_state, contact, origin,
    state, escalated, assigned_agent, queue, started_at, ended_at, last_activity, message_count, position
FROM conversations;

DROP TABLE conversations;
ALTER TABLE conversations_rebuilt RENAME TO conversations;

CREATE INDEX conversations_by_started ON conversations (started_at, id);
CREATE INDEX conversations_by_account ON conversations (account, started_at, id);
CREATE INDEX conversations_by_customer ON conversations (customer, started_at);

-- One row per message, inbound or hub-originated, in conversation order.
CREATE TABLE messages_rebuilt (
    conversation TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    id           TEXT    NOT NULL UNIQUE,
    message_id   TEXT,
    type         TEXT    NOT NULL,
    sender_type  TEXT    NOT NULL,
    sender       TEXT    NOT NULL CHECK (json_valid(sender)),
    recipients   TEXT    NOT NULL CHECK (json_valid(recipients)),
    text         TEXT,
    content      TEXT    NOT NULL CHECK (json_valid(content)),
    attributes   TEXT    CHECK (attributes IS NULL OR json_valid(attributes)),
    transcript   INTEGER NOT NULL,
    status       TEXT    NOT NULL
        CHECK (status = 'accepted' OR status = 'sent' OR status = 'failed' OR status = 'discarded'),
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER,
    hidden       INTEGER NOT NULL DEFAULT 0,
    erased       INTEGER NOT NULL DEFAULT 0,
    -- Deliveries of the message not yet finished; `sent` when the last succeeds.
    deliveries_pending INTEGER NOT NULL DEFAULT 0,
    position     INTEGER NOT NULL,
    PRIMARY KEY (conversation, seq)
) STRICT;

INSERT INTO messages_rebuilt (rowid, conversation, seq, id, message_id, type, sender_type, sender, recipients,
    text, content, attributes, transcript, status, created_at, sent_at, hidden, erased, deliveries_pending,
    position)
SELECT rowid, conversation, seq, id, message_id, type, sender_type, sender, recipients, text, content,
    attributes, transcript, status, created_at, sent_at, hidden, erased, deliveries_pending, position
FROM messages;

DROP TABLE messages;
ALTER TABLE messages_rebuilt RENAME TO messages;

-- The outbox: one row per (message, recipient) from message.routed; delivery.* events move it on.
-- `payload` is the callback body when it cannot be rebuilt from the message row (a redacted text is
-- delivered once in the original; an escalation carries the transcript), kept until the delivery ends.
-- Only pending rows are indexed by time and lane, so those indexes stay small however long the history.
-- `request` is the X-egain-request-id of the call a pending delivery was last attempted in (0006).
CREATE TABLE deliveries_rebuilt (
    id              TEXT    PRIMARY KEY,
    conversation    TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    application     TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    sender_type     TEXT    NOT NULL,
    payload         TEXT    CHECK (payload IS NULL OR json_valid(payload)),
    state           TEXT    NOT NULL CHECK (state = 'pending' OR state = 'succeeded' OR state = 'failed'),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    last_latency_ms INTEGER,
    request         TEXT
) STRICT;

INSERT INTO deliveries_rebuilt (rowid, id, conversation, message, seq, application, role, sender_type, payload,
    state, attempts, next_attempt_at, created_at, finished_at, last_status, last_error, last_latency_ms, request)
SELECT rowid, id, conversation, message, seq, application, role, sender_type, payload, state, attempts,
    next_attempt_at, created_at, finished_at, last_status, last_error, last_latency_ms, request
FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_rebuilt RENAME TO deliveries;

CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_pending_lanes ON deliveries (conversation, application, role, seq) WHERE state = 'pending';
