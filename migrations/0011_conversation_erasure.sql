-- A customer's erasure (`erasure.performed`) marks their conversations; the analysts' view shows it.
ALTER TABLE conversations ADD COLUMN erased INTEGER NOT NULL DEFAULT 0;

DROP VIEW analytics_conversations;
CREATE VIEW analytics_conversations AS
SELECT
    id,
    account,
    account_address,
    channel_type,
    origin,
    state,
    escalated,
    assigned_agent,
    queue,
    strftime('%Y-%m-%dT%H:%M:%fZ', started_at / 1000.0, 'unixepoch') AS started,
    CASE WHEN ended_at IS NULL THEN NULL
        ELSE strftime('%Y-%m-%dT%H:%M:%fZ', ended_at / 1000.0, 'unixepoch') END AS ended,
    strftime('%Y-%m-%dT%H:%M:%fZ', last_activity / 1000.0, 'unixepoch') AS last_activity,
    message_count,
    customer AS customer_id,
    erased
FROM conversations;
