-- A worker that cannot run some kinds of job (no SMTP server configured: mail) claims the others
-- by ranges of this index, instead of reading past every waiting job of the skipped kinds on each
-- poll: a backlog of unsendable mail made every claim, on SQLite's one writer, linear in it.
CREATE INDEX jobs_due_by_kind ON jobs(state, kind, run_at);
