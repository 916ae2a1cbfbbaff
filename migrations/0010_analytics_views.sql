-- Read-only views for analysts (README "Analyst views"), over the transcripts' tables, for
-- `sqlite3 -readonly hub.sqlite` or pandas while a server runs. Plaintext only where the projection
-- holds it: message text, never the customer's identity or contacts. Times are RFC 3339 (UTC) text.
-- A rebuild swaps the tables under them (with `legacy_alter_table`, so the views keep their names).
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
    customer AS customer_id
FROM conversations;

CREATE VIEW analytics_messages AS
SELECT
    m.conversation,
    m.seq,
    m.id,
    m.message_id,
    m.type,
    m.sender_type,
    json_extract(m.sender, '$.participant.name') AS sender_name,
    CASE WHEN m.hidden = 1 OR m.erased = 1 THEN NULL ELSE m.text END AS text,
    m.hidden,
    m.erased,
    m.status,
    strftime('%Y-%m-%dT%H:%M:%fZ', m.created_at / 1000.0, 'unixepoch') AS created,
    CASE WHEN m.sent_at IS NULL THEN NULL
        ELSE strftime('%Y-%m-%dT%H:%M:%fZ', m.sent_at / 1000.0, 'unixepoch') END AS sent,
    c.account,
    c.channel_type
FROM messages m JOIN conversations c ON c.id = m.conversation
WHERE m.transcript = 1;
