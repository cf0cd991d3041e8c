-- Requests wait for the requester (R15 pauses), record their migration level (R1) and first response.
ALTER TABLE requests ADD COLUMN awaiting_requester BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE requests ADD COLUMN migration_level TEXT;
ALTER TABLE requests ADD COLUMN first_response_at BIGINT;
CREATE INDEX requests_filed_by_org ON requests(filed_by_org_id, created_at);

-- Tokens an admin center embeds with the "Need help?" widget (R8a): bound to one tenant.
CREATE TABLE widget_tokens (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organizations(id),
    name            TEXT NOT NULL,
    token_hash      TEXT NOT NULL UNIQUE,
    allowed_origins TEXT NOT NULL, -- JSON array of origins that may embed it
    created_by      TEXT NOT NULL REFERENCES users(id),
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX widget_tokens_org ON widget_tokens(org_id);

-- Partner search over names, domains and tenant ids (R9): a trigram full-text index, kept in step
-- with organizations by triggers; rows share the organization's rowid.
CREATE VIRTUAL TABLE org_search USING fts5(body, tokenize = 'trigram');
INSERT INTO org_search (rowid, body)
    SELECT rowid, lower(name || ' ' || domains || ' ' || COALESCE(tenant_id, '')) FROM organizations;
CREATE TRIGGER org_search_insert AFTER INSERT ON organizations BEGIN
    INSERT INTO org_search (rowid, body) VALUES (new.rowid, lower(new.name || ' ' || new.domains || ' ' || COALESCE(new.tenant_id, '')));
END;
CREATE TRIGGER org_search_update AFTER UPDATE OF name, domains, tenant_id ON organizations BEGIN
    DELETE FROM org_search WHERE rowid = old.rowid;
    INSERT INTO org_search (rowid, body) VALUES (new.rowid, lower(new.name || ' ' || new.domains || ' ' || COALESCE(new.tenant_id, '')));
END;
CREATE TRIGGER org_search_delete AFTER DELETE ON organizations BEGIN
    DELETE FROM org_search WHERE rowid = old.rowid;
END;
