-- ctxtrace trace file: secondary indexes, created when the traced process ends
-- cleanly. A trace cut short has none; readers never add them (they never write): the
-- reader pages such a trace without them (reader.c: a temporary table for children, a
-- creation-order walk for flat lists). IF NOT EXISTS: idempotent.
-- Children in creation order (the reader pages them by this key: reader.c CREATED).
CREATE INDEX IF NOT EXISTS contexts_parent ON contexts(parent_id, ifnull(created_ns, 0));
CREATE INDEX IF NOT EXISTS contexts_create_stack ON contexts(create_stack);
CREATE INDEX IF NOT EXISTS waits_context ON waits(context_id);
-- Every context in creation order (the timeline, filtered lists).
CREATE INDEX IF NOT EXISTS contexts_created ON contexts(ifnull(created_ns, 0));
