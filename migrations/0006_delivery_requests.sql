-- Several messages may travel in one callback POST (spec §5.3: "one or more messages per call").
-- `request` is the X-egain-request-id of the call a pending delivery was last attempted in: a call
-- that is retried goes out again with the same messages under the same id, so receivers can
-- de-duplicate it. NULL until a first attempt failed.
ALTER TABLE deliveries ADD COLUMN request TEXT;
