-- ctxtrace trace file: secondary indexes, created when the traced process ends
-- cleanly (and by readers of a trace that was cut short). IF NOT EXISTS: idempotent.
CREATE INDEX IF NOT EXISTS contexts_parent ON contexts(parent_id);
CREATE INDEX IF NOT EXISTS contexts_create_stack ON contexts(create_stack);
CREATE INDEX IF NOT EXISTS waits_context ON waits(context_id);
