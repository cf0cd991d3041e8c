-- The programme's data model (SPEC §2–3). Instants are UTC seconds since the epoch (BIGINT);
-- zones are IANA names; lists and structured values that are never queried inside are JSON text.

CREATE TABLE regions (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    -- JSON: {"mon": [["09:00","12:30"],["13:30","18:00"]], ...}
    working_hours TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE holidays (
    region_id TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    day       TEXT NOT NULL, -- civil date YYYY-MM-DD in the region's zone
    name      TEXT NOT NULL,
    PRIMARY KEY (region_id, day)
);

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('customer', 'partner', 'programme')),
    name        TEXT NOT NULL,
    tenant_id   TEXT UNIQUE,
    region_id   TEXT REFERENCES regions(id),
    country     TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    language    TEXT NOT NULL,
    -- JSON array of the domains, kept with the row for reads; org_domains holds them for lookups.
    domains     TEXT NOT NULL DEFAULT '[]',
    -- The partner of record that handles this customer's onboarding (R8), if any.
    partner_of_record TEXT REFERENCES organizations(id),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX organizations_kind_name ON organizations(kind, name);

CREATE TABLE org_domains (
    domain TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE
);
CREATE INDEX org_domains_org ON org_domains(org_id);

CREATE TABLE services (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    category    TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE plans (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    paid       BOOLEAN NOT NULL,
    -- Whether seats of this plan count towards the programme's thresholds (R1).
    eligible   BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE plan_services (
    plan_id    TEXT NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    service_id TEXT NOT NULL REFERENCES services(id),
    PRIMARY KEY (plan_id, service_id)
);

CREATE TABLE subscriptions (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations(id),
    plan_id    TEXT NOT NULL REFERENCES plans(id),
    seats      BIGINT NOT NULL CHECK (seats >= 0),
    state      TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'expired', 'cancelled')),
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX subscriptions_org ON subscriptions(org_id);

CREATE TABLE relationships (
    id              TEXT PRIMARY KEY,
    partner_org_id  TEXT NOT NULL REFERENCES organizations(id),
    customer_org_id TEXT NOT NULL REFERENCES organizations(id),
    status          TEXT NOT NULL CHECK (status IN ('requested', 'active', 'declined', 'ended')),
    scope_actions   TEXT NOT NULL, -- JSON array
    scope_services  TEXT,          -- JSON array, NULL = every service
    requested_days  BIGINT NOT NULL,
    requested_at    BIGINT NOT NULL,
    requested_by    TEXT NOT NULL,
    approved_at     BIGINT,
    approved_by     TEXT,
    expires_at      BIGINT,
    ended_at        BIGINT,
    ended_by        TEXT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX relationships_partner ON relationships(partner_org_id, customer_org_id);
CREATE INDEX relationships_customer ON relationships(customer_org_id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT,
    language      TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX users_org ON users(org_id);

-- Programme staff: their region (business hours, R12), capacity and spoken languages (R11).
CREATE TABLE staff_profiles (
    user_id         TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    region_id       TEXT NOT NULL REFERENCES regions(id),
    weekly_capacity BIGINT NOT NULL DEFAULT 20
);
CREATE TABLE staff_languages (
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    language TEXT NOT NULL,
    PRIMARY KEY (user_id, language)
);
CREATE INDEX staff_languages_language ON staff_languages(language);
CREATE TABLE staff_time_off (
    id        TEXT PRIMARY KEY,
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    starts_at BIGINT NOT NULL,
    ends_at   BIGINT NOT NULL,
    CHECK (starts_at < ends_at)
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE requests (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations(id),
    filed_by          TEXT NOT NULL REFERENCES users(id),
    filed_by_org_id   TEXT NOT NULL REFERENCES organizations(id),
    channel           TEXT NOT NULL,
    kinds             TEXT NOT NULL, -- JSON array
    services          TEXT NOT NULL, -- JSON array
    contact           TEXT NOT NULL, -- JSON {name, email, phone}
    language          TEXT NOT NULL,
    time_zone         TEXT NOT NULL,
    preferred_windows TEXT NOT NULL, -- JSON array of [start, end)
    description       TEXT NOT NULL,
    migration         TEXT,          -- JSON (R14), when migration was asked for
    state             TEXT NOT NULL,
    state_reason      TEXT,
    manager_id        TEXT REFERENCES users(id),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX requests_org ON requests(org_id, created_at);
CREATE INDEX requests_state ON requests(state, created_at);

CREATE TABLE request_events (
    id         TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id),
    at         BIGINT NOT NULL,
    actor_id   TEXT,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    note       TEXT
);
CREATE INDEX request_events_request ON request_events(request_id, at);

CREATE TABLE engagements (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations(id),
    state      TEXT NOT NULL,
    start_day  TEXT NOT NULL,
    paused_at  BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX engagements_org ON engagements(org_id);

CREATE TABLE engagement_requests (
    engagement_id TEXT NOT NULL REFERENCES engagements(id),
    request_id    TEXT NOT NULL REFERENCES requests(id),
    PRIMARY KEY (engagement_id, request_id)
);

CREATE TABLE tracks (
    id            TEXT PRIMARY KEY,
    engagement_id TEXT NOT NULL REFERENCES engagements(id),
    kind          TEXT NOT NULL,
    service_id    TEXT REFERENCES services(id),
    position      BIGINT NOT NULL
);
CREATE INDEX tracks_engagement ON tracks(engagement_id);

CREATE TABLE tasks (
    id           TEXT PRIMARY KEY,
    track_id     TEXT NOT NULL REFERENCES tracks(id),
    template_key TEXT NOT NULL,
    phase        TEXT NOT NULL,
    title        TEXT NOT NULL,
    owner_side   TEXT NOT NULL CHECK (owner_side IN ('customer', 'partner', 'programme')),
    kind         TEXT NOT NULL CHECK (kind IN ('tenant_change', 'advisory')),
    state        TEXT NOT NULL,
    guidance     TEXT NOT NULL, -- JSON {text, links}
    depends_on   TEXT NOT NULL, -- JSON array of template keys
    due_day      TEXT,
    completed_at BIGINT,
    completed_by TEXT,
    position     BIGINT NOT NULL
);
CREATE INDEX tasks_track ON tasks(track_id, position);

CREATE TABLE task_comments (
    id         TEXT PRIMARY KEY,
    task_id    TEXT NOT NULL REFERENCES tasks(id),
    author_id  TEXT NOT NULL REFERENCES users(id),
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE deviations (
    id          TEXT PRIMARY KEY,
    engagement_id TEXT NOT NULL REFERENCES engagements(id),
    task_id     TEXT REFERENCES tasks(id),
    kind        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);

CREATE TABLE templates (
    id         TEXT PRIMARY KEY,
    track_kind TEXT NOT NULL,
    service_id TEXT,
    body       TEXT NOT NULL, -- JSON task templates
    updated_at BIGINT NOT NULL
);

CREATE TABLE meetings (
    id            TEXT PRIMARY KEY,
    request_id    TEXT REFERENCES requests(id),
    engagement_id TEXT REFERENCES engagements(id),
    staff_id      TEXT NOT NULL REFERENCES users(id),
    purpose       TEXT NOT NULL,
    starts_at     BIGINT NOT NULL,
    ends_at       BIGINT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('proposed', 'booked', 'cancelled', 'rescheduled', 'held')),
    sequence      BIGINT NOT NULL DEFAULT 0,
    online_link   TEXT NOT NULL,
    replaces_id   TEXT REFERENCES meetings(id),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    CHECK (starts_at < ends_at)
);
CREATE INDEX meetings_staff ON meetings(staff_id, starts_at);

CREATE TABLE webhooks (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES organizations(id),
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    events     TEXT NOT NULL, -- JSON array
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

-- Durable work for the background worker: mail, invites, webhooks. At-least-once with a dedupe key.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    dedupe_key   TEXT UNIQUE,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
    attempts     BIGINT NOT NULL DEFAULT 0,
    run_at       BIGINT NOT NULL,
    locked_until BIGINT,
    locked_by    TEXT,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    done_at      BIGINT
);
CREATE INDEX jobs_due ON jobs(state, run_at);

-- Every change: who, acting for whom, when, what. Append-only (triggers below).
CREATE TABLE audit_log (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    at               BIGINT NOT NULL,
    actor_user_id    TEXT,
    actor_org_id     TEXT,
    acting_for_org_id TEXT,
    tenant_org_id    TEXT,
    action           TEXT NOT NULL,
    entity           TEXT NOT NULL,
    entity_id        TEXT NOT NULL,
    changes          TEXT NOT NULL -- JSON
);
CREATE INDEX audit_log_tenant ON audit_log(tenant_org_id, id);
CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
