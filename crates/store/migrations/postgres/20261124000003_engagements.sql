-- Engagements (R3–R7): what the normalized engagement tables need to rebuild the core's
-- Engagement exactly (track names and kinds, task start days, chosen options, deviation details),
-- an optimistic version for concurrent task changes, and the template set's order and version.
ALTER TABLE engagements ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE engagements ADD COLUMN completed_at BIGINT;
-- At most one open (active or paused) engagement per tenant: a later request extends it.
CREATE UNIQUE INDEX engagements_one_open ON engagements(org_id) WHERE state IN ('active', 'paused');
CREATE INDEX engagements_state ON engagements(state, id);

ALTER TABLE tracks ADD COLUMN name TEXT NOT NULL DEFAULT '';
-- JSON of the core's TrackKind ({"kind": "service_onboarding", "service": "mail"}).
ALTER TABLE tracks ADD COLUMN spec TEXT NOT NULL DEFAULT '{}';

ALTER TABLE tasks ADD COLUMN start_day TEXT;
ALTER TABLE tasks ADD COLUMN chosen_option TEXT;
ALTER TABLE tasks ADD COLUMN completed_by_role TEXT;
CREATE INDEX tasks_open_due ON tasks(state, due_day);

CREATE INDEX task_comments_task ON task_comments(task_id, created_at);

ALTER TABLE deviations ADD COLUMN task_key TEXT NOT NULL DEFAULT '';
ALTER TABLE deviations ADD COLUMN recorded_by_role TEXT NOT NULL DEFAULT '';
-- JSON of the core's DeviationKind (what was skipped, what a task was done before, which option).
ALTER TABLE deviations ADD COLUMN detail TEXT NOT NULL DEFAULT '{}';
CREATE INDEX deviations_engagement ON deviations(engagement_id, recorded_at);

ALTER TABLE templates ADD COLUMN position BIGINT NOT NULL DEFAULT 0;
ALTER TABLE templates ADD COLUMN set_version BIGINT NOT NULL DEFAULT 1;
