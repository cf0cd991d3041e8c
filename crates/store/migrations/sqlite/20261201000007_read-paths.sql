-- Slot search reads every staff member with their languages, time off and meetings, and the
-- regions' calendars and holidays (R10-R12). Servers keep that team in memory; this counter moves
-- with every change to what it is built from, in the same transaction, so a server knows when its
-- copy is stale, whichever process made the change (BENCHMARKS.md). It is derived state: backups
-- leave it out, and a restore moves it through these triggers.
CREATE TABLE scheduling_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    v  BIGINT NOT NULL
);
CREATE TRIGGER meetings_insert_scheduling AFTER INSERT ON meetings BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER meetings_update_scheduling AFTER UPDATE ON meetings BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER meetings_delete_scheduling AFTER DELETE ON meetings BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER staff_time_off_insert_scheduling AFTER INSERT ON staff_time_off BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER staff_time_off_update_scheduling AFTER UPDATE ON staff_time_off BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER staff_time_off_delete_scheduling AFTER DELETE ON staff_time_off BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER staff_profiles_insert_scheduling AFTER INSERT ON staff_profiles BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER staff_profiles_update_scheduling AFTER UPDATE ON staff_profiles BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER staff_profiles_delete_scheduling AFTER DELETE ON staff_profiles BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER staff_languages_insert_scheduling AFTER INSERT ON staff_languages BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER staff_languages_update_scheduling AFTER UPDATE ON staff_languages BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER staff_languages_delete_scheduling AFTER DELETE ON staff_languages BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER holidays_insert_scheduling AFTER INSERT ON holidays BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER holidays_update_scheduling AFTER UPDATE ON holidays BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER holidays_delete_scheduling AFTER DELETE ON holidays BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER regions_insert_scheduling AFTER INSERT ON regions BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER regions_update_scheduling AFTER UPDATE ON regions BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER regions_delete_scheduling AFTER DELETE ON regions BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
-- A user is part of the team through a staff profile: only those users' changes count.
CREATE TRIGGER users_update_scheduling AFTER UPDATE ON users
WHEN EXISTS (SELECT 1 FROM staff_profiles WHERE user_id = OLD.id) BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
CREATE TRIGGER users_delete_scheduling AFTER DELETE ON users
WHEN EXISTS (SELECT 1 FROM staff_profiles WHERE user_id = OLD.id) BEGIN
    INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;

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
