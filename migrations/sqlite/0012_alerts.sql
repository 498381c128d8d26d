-- Alerts (issue 11, SPEC F-08): rules that watch spending and the fleet, the alerts they open,
-- the channels that carry them to people and a log of every delivery.
--
-- One rule per kind and workspace; a kind without a row runs with the seed's defaults, so a
-- new workspace is watched from its first call without a row being written for it.
CREATE TABLE alert_rules (
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('budget_threshold', 'cost_spike', 'stuck_agent',
                                                'context_window', 'failure_rate', 'agent_cost')),
    enabled       INTEGER NOT NULL,
    severity      TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    -- Kind-specific numbers as JSON (e.g. `{"minutes": 10}`), validated by the engine.
    params        TEXT NOT NULL DEFAULT '{}',
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, kind)
);

-- An alert is opened once per rule and subject: `dedup_key` is unique in the workspace. While
-- a condition alert (stuck agent, failure rate…) is open or acknowledged its key is
-- `kind|subject`; resolving it appends `#id`, which frees the key for the next occurrence. A
-- budget crossing's key names the period and the threshold and is never freed, so each
-- crossing fires once, however often the evaluator looks and however many processes run it.
CREATE TABLE alerts (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    subject          TEXT NOT NULL,
    subject_label    TEXT NOT NULL,
    dedup_key        TEXT NOT NULL,
    severity         TEXT NOT NULL,
    title            TEXT NOT NULL,
    message          TEXT NOT NULL,
    -- Link to what it is about, inside the app (e.g. `/tasks/ID`).
    link             TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    opened_at        INTEGER NOT NULL,
    acknowledged_at  INTEGER,
    acknowledged_by  TEXT,
    resolved_at      INTEGER,
    -- NULL when the condition cleared by itself.
    resolved_by      TEXT,
    UNIQUE (workspace_id, dedup_key)
);
CREATE INDEX alerts_state ON alerts (workspace_id, state, opened_at);
CREATE INDEX alerts_opened ON alerts (workspace_id, opened_at);

-- Where alerts go besides the app: a webhook (Slack- or Discord-compatible JSON, signed with
-- HMAC-SHA256) or e-mail addresses (through the instance's SMTP server).
CREATE TABLE notification_channels (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('webhook', 'email')),
    -- The webhook's URL or the comma-separated addresses.
    target         TEXT NOT NULL,
    -- Webhooks: `slack`, `discord` or `generic`; '' for e-mail.
    format         TEXT NOT NULL DEFAULT '',
    -- The webhook's signing secret, sealed with the master key (base64); '' for e-mail.
    secret_sealed  TEXT NOT NULL DEFAULT '',
    -- The least severity sent (`info`, `warning`, `critical`).
    min_severity   TEXT NOT NULL DEFAULT 'warning',
    enabled        INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);

-- Every message to a channel: queued with the alert (same transaction), sent by a background
-- loop with retries and backoff, and kept as the channel's delivery log.
CREATE TABLE alert_deliveries (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    channel_id       TEXT NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
    -- NULL for a "send test".
    alert_id         TEXT REFERENCES alerts(id) ON DELETE CASCADE,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    -- HTTP status of the last attempt (webhooks), NULL before one or for e-mail.
    last_status      INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    delivered_at     INTEGER
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_attempt_at);
CREATE INDEX alert_deliveries_channel ON alert_deliveries (channel_id, created_at);
