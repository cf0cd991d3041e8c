-- Programme settings kept as documents (R17's migration limits), one row per key, JSON text.
CREATE TABLE programme_settings (
    setting_key TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- R5/R10: the meeting plan of an engagement, proposed when a request is accepted (a kick-off,
-- then one meeting per phase) and booked once the customer or partner confirms. One plan per
-- request; its meetings are a JSON document that the web layer reads and writes whole.
CREATE TABLE meeting_plans (
    request_id    TEXT PRIMARY KEY REFERENCES requests(id),
    engagement_id TEXT NOT NULL REFERENCES engagements(id),
    state         TEXT NOT NULL CHECK (state IN ('proposed', 'confirmed')),
    body          TEXT NOT NULL,
    confirmed_by  TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
