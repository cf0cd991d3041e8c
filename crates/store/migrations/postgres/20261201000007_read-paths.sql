-- Slot search reads every staff member with their languages, time off and meetings, and the
-- regions' calendars and holidays (R10-R12). Servers keep that team in memory; this counter moves
-- with every change to what it is built from, when its transaction commits, so a server knows when its
-- copy is stale, whichever process made the change (BENCHMARKS.md). It is derived state: backups
-- leave it out, and a restore moves it through these triggers.
CREATE TABLE scheduling_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    v  BIGINT NOT NULL
);

CREATE FUNCTION scheduling_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO scheduling_version (id, v) VALUES (1, 1)
    ON CONFLICT (id) DO UPDATE SET v = scheduling_version.v + 1;
    RETURN NULL;
END
$$;

-- A user is part of the team through a staff profile: only those users' changes count.
CREATE FUNCTION staff_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM staff_profiles WHERE user_id = OLD.id) THEN
        INSERT INTO scheduling_version (id, v) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET v = scheduling_version.v + 1;
    END IF;
    RETURN NULL;
END
$$;

-- Deferred to the commit: the counter's row lock is the last one a transaction takes, so it never
-- waits on another lock while holding it (no deadlock with bookings that lock their request).
CREATE CONSTRAINT TRIGGER meetings_scheduling AFTER INSERT OR UPDATE OR DELETE ON meetings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION scheduling_changed();
CREATE CONSTRAINT TRIGGER staff_time_off_scheduling AFTER INSERT OR UPDATE OR DELETE ON staff_time_off
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION scheduling_changed();
CREATE CONSTRAINT TRIGGER staff_profiles_scheduling AFTER INSERT OR UPDATE OR DELETE ON staff_profiles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION scheduling_changed();
CREATE CONSTRAINT TRIGGER staff_languages_scheduling AFTER INSERT OR UPDATE OR DELETE ON staff_languages
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION scheduling_changed();
CREATE CONSTRAINT TRIGGER holidays_scheduling AFTER INSERT OR UPDATE OR DELETE ON holidays
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION scheduling_changed();
CREATE CONSTRAINT TRIGGER regions_scheduling AFTER INSERT OR UPDATE OR DELETE ON regions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION scheduling_changed();
CREATE CONSTRAINT TRIGGER users_scheduling AFTER UPDATE OR DELETE ON users
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION staff_user_changed();

-- A partner's "My customers" (R9) starts from its live relationships: with status, expiry and the
-- customer in the index, finding them reads no relationship rows (BENCHMARKS.md).
CREATE INDEX relationships_partner_live
    ON relationships(partner_org_id, status, expires_at, customer_org_id);

-- Every filing mails its region's managers: found by role, not by reading every user (partners'
-- users are thousands; the profile showed intake scanning them all).
CREATE INDEX users_role ON users(role);

-- R16's sweep looks for live relationships expiring soon: by expiry, not by reading all of them
-- (2.8 s over 900,000 relationships without it).
CREATE INDEX relationships_expiry ON relationships(expires_at);
