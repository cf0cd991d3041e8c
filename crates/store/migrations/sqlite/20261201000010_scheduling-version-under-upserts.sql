-- The scheduling version's triggers made sure its row existed with `INSERT OR IGNORE` before
-- moving it. But when the statement that fires a trigger is an upsert (`ON CONFLICT … DO
-- UPDATE`: saving a region, a holiday or a staff profile that already exists), SQLite applies
-- that statement's conflict policy to the trigger's own statements, so the `OR IGNORE` aborted
-- instead: every such save failed with a unique violation once the row existed. The row is now
-- made here, once, and the triggers only move it.
INSERT OR IGNORE INTO scheduling_version (id, v) VALUES (1, 0);
DROP TRIGGER meetings_insert_scheduling;
CREATE TRIGGER meetings_insert_scheduling AFTER INSERT ON meetings BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER meetings_update_scheduling;
CREATE TRIGGER meetings_update_scheduling AFTER UPDATE ON meetings BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER meetings_delete_scheduling;
CREATE TRIGGER meetings_delete_scheduling AFTER DELETE ON meetings BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER staff_time_off_insert_scheduling;
CREATE TRIGGER staff_time_off_insert_scheduling AFTER INSERT ON staff_time_off BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER staff_time_off_update_scheduling;
CREATE TRIGGER staff_time_off_update_scheduling AFTER UPDATE ON staff_time_off BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER staff_time_off_delete_scheduling;
CREATE TRIGGER staff_time_off_delete_scheduling AFTER DELETE ON staff_time_off BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER staff_profiles_insert_scheduling;
CREATE TRIGGER staff_profiles_insert_scheduling AFTER INSERT ON staff_profiles BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER staff_profiles_update_scheduling;
CREATE TRIGGER staff_profiles_update_scheduling AFTER UPDATE ON staff_profiles BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER staff_profiles_delete_scheduling;
CREATE TRIGGER staff_profiles_delete_scheduling AFTER DELETE ON staff_profiles BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER staff_languages_insert_scheduling;
CREATE TRIGGER staff_languages_insert_scheduling AFTER INSERT ON staff_languages BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER staff_languages_update_scheduling;
CREATE TRIGGER staff_languages_update_scheduling AFTER UPDATE ON staff_languages BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER staff_languages_delete_scheduling;
CREATE TRIGGER staff_languages_delete_scheduling AFTER DELETE ON staff_languages BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER holidays_insert_scheduling;
CREATE TRIGGER holidays_insert_scheduling AFTER INSERT ON holidays BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER holidays_update_scheduling;
CREATE TRIGGER holidays_update_scheduling AFTER UPDATE ON holidays BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER holidays_delete_scheduling;
CREATE TRIGGER holidays_delete_scheduling AFTER DELETE ON holidays BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER regions_insert_scheduling;
CREATE TRIGGER regions_insert_scheduling AFTER INSERT ON regions BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER regions_update_scheduling;
CREATE TRIGGER regions_update_scheduling AFTER UPDATE ON regions BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER regions_delete_scheduling;
CREATE TRIGGER regions_delete_scheduling AFTER DELETE ON regions BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
-- A user is part of the team through a staff profile: only those users' changes count.
DROP TRIGGER users_update_scheduling;
CREATE TRIGGER users_update_scheduling AFTER UPDATE ON users
WHEN EXISTS (SELECT 1 FROM staff_profiles WHERE user_id = OLD.id) BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
DROP TRIGGER users_delete_scheduling;
CREATE TRIGGER users_delete_scheduling AFTER DELETE ON users
WHEN EXISTS (SELECT 1 FROM staff_profiles WHERE user_id = OLD.id) BEGIN
    UPDATE scheduling_version SET v = v + 1 WHERE id = 1;
END;
