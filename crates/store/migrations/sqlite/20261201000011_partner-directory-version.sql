-- A partner's "My customers" (R9) is served from a copy in memory (crates/store/src/directory.rs).
-- Each partner's directory version moves in the same commit as any change to its relationships
-- or to the row of an organization it has a relationship with, whichever process made it, so a
-- server knows when its copy is stale. Derived state: backups leave it out, and a restore
-- rebuilds it through these triggers. A partner with no row has never had a relationship.
-- Nothing writes these tables with `OR REPLACE`: SQLite would delete the replaced row without
-- firing the delete triggers (recursive triggers are off).
CREATE TABLE partner_directory_version (
    partner_org_id TEXT PRIMARY KEY,
    v              INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO partner_directory_version (partner_org_id, v)
    SELECT DISTINCT partner_org_id, 0 FROM relationships;

-- The row is made without a conflict clause of its own: under an upsert SQLite would apply the
-- outer statement's policy instead (see migration 10).
CREATE TRIGGER relationships_insert_directory AFTER INSERT ON relationships BEGIN
    INSERT INTO partner_directory_version (partner_org_id, v)
        SELECT new.partner_org_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM partner_directory_version WHERE partner_org_id = new.partner_org_id);
    UPDATE partner_directory_version SET v = v + 1 WHERE partner_org_id = new.partner_org_id;
END;
CREATE TRIGGER relationships_update_directory AFTER UPDATE ON relationships BEGIN
    INSERT INTO partner_directory_version (partner_org_id, v)
        SELECT new.partner_org_id, 0
        WHERE NOT EXISTS (SELECT 1 FROM partner_directory_version WHERE partner_org_id = new.partner_org_id);
    UPDATE partner_directory_version SET v = v + 1
        WHERE partner_org_id IN (old.partner_org_id, new.partner_org_id);
END;
CREATE TRIGGER relationships_delete_directory AFTER DELETE ON relationships BEGIN
    UPDATE partner_directory_version SET v = v + 1 WHERE partner_org_id = old.partner_org_id;
END;
CREATE TRIGGER organizations_update_directory AFTER UPDATE ON organizations BEGIN
    UPDATE partner_directory_version SET v = v + 1
        WHERE partner_org_id IN (SELECT partner_org_id FROM relationships
                                  WHERE customer_org_id IN (old.id, new.id));
END;
CREATE TRIGGER organizations_delete_directory AFTER DELETE ON organizations BEGIN
    UPDATE partner_directory_version SET v = v + 1
        WHERE partner_org_id IN (SELECT partner_org_id FROM relationships
                                  WHERE customer_org_id = old.id);
END;
