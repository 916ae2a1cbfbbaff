-- The BEFORE INSERT trigger that refused an INSERT OR REPLACE over an event cost about as much as
-- the rest of an event's insert (a trigger program runs for every row). The same guard now comes
-- from the DELETE trigger: every HubStore connection turns `recursive_triggers` on, and then the
-- delete that REPLACE does to make room fires `events_no_delete`, which aborts the statement.
-- A client that leaves recursive triggers off can still replace an event; `hubstore verify`
-- reports that by position, as it reports any other edit (DESIGN.md §3).
DROP TRIGGER events_no_replace;
