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

-- Partner search over names, domains and tenant ids (R9): trigram indexes serve LIKE '%…%'.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX organizations_search_trgm ON organizations
    USING gin ((lower(name || ' ' || domains || ' ' || COALESCE(tenant_id, ''))) gin_trgm_ops);
