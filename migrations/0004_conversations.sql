-- Conversation projections (DESIGN.md §4), written in the writer's transaction with the events they
-- come from: conversation.*, message.*, delivery.*. Rebuildable from the log. They hold plaintext
-- (transcripts must be readable); the log holds message content and customer identity sealed.

-- Customers per account, found by keyed hashes (HMAC-SHA-256) of their contact addresses: the
-- plaintext contact never serves as a key.
CREATE TABLE customer_contacts (
    account     TEXT NOT NULL,
    contact_key TEXT NOT NULL,
    customer    TEXT NOT NULL,
    PRIMARY KEY (account, contact_key)
) STRICT;

CREATE INDEX customer_contacts_by_key ON customer_contacts (contact_key);

CREATE TABLE conversations (
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
    state           TEXT    NOT NULL CHECK (state IN ('active', 'escalated', 'ended')),
    escalated       INTEGER NOT NULL DEFAULT 0,
    assigned_agent  TEXT,
    queue           TEXT,
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    last_activity   INTEGER NOT NULL,
    message_count   INTEGER NOT NULL DEFAULT 0,
    position        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX conversations_by_started ON conversations (started_at, id);
CREATE INDEX conversations_by_account ON conversations (account, started_at, id);
CREATE INDEX conversations_by_customer ON conversations (customer, started_at);

-- One row per message, inbound or hub-originated, in conversation order.
CREATE TABLE messages (
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
    status       TEXT    NOT NULL CHECK (status IN ('accepted', 'sent', 'failed', 'discarded')),
    created_at   INTEGER NOT NULL,
    sent_at      INTEGER,
    hidden       INTEGER NOT NULL DEFAULT 0,
    erased       INTEGER NOT NULL DEFAULT 0,
    -- Deliveries of the message not yet finished; `sent` when the last succeeds.
    deliveries_pending INTEGER NOT NULL DEFAULT 0,
    position     INTEGER NOT NULL,
    PRIMARY KEY (conversation, seq)
) STRICT;


-- The outbox: one row per (message, recipient) from message.routed; delivery.* events move it on.
-- `payload` is the callback body when it cannot be rebuilt from the message row (a redacted text is
-- delivered once in the original; an escalation carries the transcript), kept until the delivery ends.
-- Only pending rows are indexed by time and lane, so those indexes stay small however long the history.
CREATE TABLE deliveries (
    id              TEXT    PRIMARY KEY,
    conversation    TEXT    NOT NULL,
    message         TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    application     TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    sender_type     TEXT    NOT NULL,
    payload         TEXT    CHECK (payload IS NULL OR json_valid(payload)),
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    last_latency_ms INTEGER
) STRICT;

CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX deliveries_pending_lanes ON deliveries (conversation, application, role, seq) WHERE state = 'pending';
