-- A partner's "My customers" (R9) is served from a copy in memory (crates/store/src/directory.rs).
-- Each partner's directory version moves, when the transaction commits, with any change to its
-- relationships or to the row of an organization it has a relationship with, whichever process
-- made it, so a server knows when its copy is stale. Derived state: backups leave it out, and a
-- restore rebuilds it through these triggers. A partner with no row has never had a relationship.
CREATE TABLE partner_directory_version (
    partner_org_id TEXT PRIMARY KEY,
    v              BIGINT NOT NULL
);
INSERT INTO partner_directory_version (partner_org_id, v)
    SELECT DISTINCT partner_org_id, 0 FROM relationships;

CREATE FUNCTION partner_directory_bump(partner TEXT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO partner_directory_version (partner_org_id, v) VALUES (partner, 1)
    ON CONFLICT (partner_org_id) DO UPDATE SET v = partner_directory_version.v + 1;
$$;

CREATE FUNCTION relationship_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM partner_directory_bump(NEW.partner_org_id);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM partner_directory_bump(OLD.partner_org_id);
    ELSE
        PERFORM partner_directory_bump(NEW.partner_org_id);
        IF OLD.partner_org_id IS DISTINCT FROM NEW.partner_org_id THEN
            PERFORM partner_directory_bump(OLD.partner_org_id);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION organization_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- In one order, so that two commits moving the same partners never wait on each other.
    PERFORM partner_directory_bump(partner)
       FROM (SELECT DISTINCT partner_org_id AS partner FROM relationships
              WHERE customer_org_id = OLD.id ORDER BY partner) AS theirs;
    RETURN NULL;
END
$$;

-- Deferred to the commit, as the scheduling version's are (migration 7): the counter's row lock is
-- the last one a transaction takes.
CREATE CONSTRAINT TRIGGER relationships_directory AFTER INSERT OR UPDATE OR DELETE ON relationships
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION relationship_directory_changed();
CREATE CONSTRAINT TRIGGER organizations_directory AFTER UPDATE OR DELETE ON organizations
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION organization_directory_changed();
