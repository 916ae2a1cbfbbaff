-- The transcripts' version 6 names a message's conversation by the conversation's `number` (the
-- position of its `conversation.started`), not its id. The analysts' view of messages joins on it and
-- still shows the conversation's id: its columns and rows are the same as before. (Views are resolved
-- when read: the transcripts' rebuild at start-up adds `conversations.number` before anyone reads it.)
DROP VIEW analytics_messages;

CREATE VIEW analytics_messages AS
SELECT
    c.id AS conversation,
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
FROM messages m JOIN conversations c ON c.number = m.conversation
WHERE m.transcript = 1;
