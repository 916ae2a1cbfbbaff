-- The search projection's version 3 names each indexed message by its transcript row's rowid and reads
-- the message's conversation, sender type, time and visibility from `messages`: the table it kept beside
-- its index goes (the projection's rebuild, which its new version starts, makes the index again).
DROP TABLE IF EXISTS search_messages;
