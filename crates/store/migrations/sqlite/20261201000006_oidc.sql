-- OpenID Connect sign-in (issue 9): each organization may have one identity provider. The
-- client secret is kept as given (it must be sent to the provider) and is never returned by the API.
CREATE TABLE sign_in_providers (
    org_id          TEXT PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    issuer          TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    client_secret   TEXT NOT NULL,
    -- JSON array of e-mail domains (a subset of the organization's own domains).
    allowed_domains TEXT NOT NULL,
    -- The role a first sign-in creates; NULL: only users who already exist may sign in.
    new_user_role   TEXT,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Sign-ins under way: `state` is single-use and shared by every server process on one database.
-- Only the SHA-256 of `state` is kept; the browser holds the value itself in a cookie.
CREATE TABLE sign_in_attempts (
    state_hash    TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    -- Where the user goes once signed in (a path of this site).
    next_path     TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    consumed_at   BIGINT
);
CREATE INDEX sign_in_attempts_expiry ON sign_in_attempts(expires_at);
