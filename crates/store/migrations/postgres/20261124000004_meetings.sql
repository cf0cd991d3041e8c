-- Online meetings (R10–R13) and service-level settings (R15).
-- A meeting keeps one UID across reschedules (each reschedule is a new row that replaces the old
-- one, with a higher SEQUENCE); the time zone is the customer's, for showing local times.
ALTER TABLE meetings ADD COLUMN uid TEXT NOT NULL DEFAULT '';
ALTER TABLE meetings ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE meetings ADD COLUMN attendees TEXT NOT NULL DEFAULT '[]'; -- JSON array of e-mails
ALTER TABLE meetings ADD COLUMN booked_by TEXT;
ALTER TABLE meetings ADD COLUMN cancel_reason TEXT;
CREATE INDEX meetings_request ON meetings(request_id, starts_at);
CREATE INDEX meetings_uid ON meetings(uid);
CREATE INDEX meetings_booked ON meetings(state, starts_at);
CREATE INDEX staff_time_off_user ON staff_time_off(user_id, starts_at);
ALTER TABLE staff_time_off ADD COLUMN reason TEXT NOT NULL DEFAULT '';

-- R10: no staff member is ever double-booked, whichever process writes: the database refuses
-- two booked meetings of one staff member whose [start, end) ranges overlap.
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE meetings ADD CONSTRAINT meetings_no_overlap
    EXCLUDE USING gist (staff_id WITH =, int8range(starts_at, ends_at) WITH &&)
    WHERE (state = 'booked');

-- R15: the programme's service-level targets, in business minutes (one row).
CREATE TABLE sla_settings (
    id                     INTEGER PRIMARY KEY CHECK (id = 1),
    first_response_minutes BIGINT NOT NULL CHECK (first_response_minutes > 0),
    first_meeting_minutes  BIGINT NOT NULL CHECK (first_meeting_minutes > 0),
    near_breach_percent    BIGINT NOT NULL CHECK (near_breach_percent BETWEEN 1 AND 100),
    updated_at             BIGINT NOT NULL
);
INSERT INTO sla_settings (id, first_response_minutes, first_meeting_minutes, near_breach_percent, updated_at)
VALUES (1, 480, 2400, 80, 0);
