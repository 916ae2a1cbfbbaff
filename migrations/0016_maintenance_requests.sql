-- Maintenance a transaction asks for and a service does later, once for every request made since
-- it last ran. `search.merge`: a `delete.permanent` took a text out of the search index, whose
-- segments keep its words until they are merged, and merging rewrites the whole index (seconds at a
-- million messages): many deletions share one merge. Not a projection's table: a rebuilt index
-- never held an erased text, and owes no merge.
CREATE TABLE maintenance_requests (
    task         TEXT    PRIMARY KEY,
    requested_at INTEGER NOT NULL
) STRICT;

-- A store from before this migration whose log has a `message.erased` may hold the words of texts a
-- `delete.permanent` took out: its first merge drops them.
INSERT INTO maintenance_requests (task, requested_at)
SELECT 'search.merge', 0 WHERE EXISTS (SELECT 1 FROM event_names WHERE name = 'message.erased');
