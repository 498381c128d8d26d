-- Identity and access (SPEC F-12, F-13): credit balances, sessions, magic links, API keys,
-- the credit ledger and the tamper-evident audit log. Same conventions as 0001.

-- Every user starts with 100 credits; the CHECK makes a negative balance impossible even if
-- application code were wrong.
ALTER TABLE users ADD COLUMN credits INTEGER NOT NULL DEFAULT 100 CHECK (credits >= 0);

-- Browser sessions. Only the SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    ip            TEXT,
    user_agent    TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- One-time sign-in links, stored hashed.
CREATE TABLE magic_links (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

-- API keys for programs: shown once, stored as SHA-256; prefix identifies a key in lists.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

-- Every change of a credit balance.
CREATE TABLE credit_ledger (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    delta          INTEGER NOT NULL,
    balance_after  INTEGER NOT NULL,
    reason         TEXT NOT NULL,
    actor_user_id  TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX credit_ledger_user ON credit_ledger (user_id, created_at);

-- Append-only audit log with a per-workspace hash chain: hash = SHA-256(prev_hash | fields).
CREATE TABLE audit_log (
    workspace_id   TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    id             TEXT NOT NULL UNIQUE,
    actor_user_id  TEXT,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    target         TEXT NOT NULL,
    ip             TEXT,
    user_agent     TEXT,
    details        TEXT NOT NULL DEFAULT '{}',
    created_at     INTEGER NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);
CREATE INDEX audit_log_created ON audit_log (workspace_id, created_at);

-- The head of each workspace's chain; updating it serialises appends on both backends.
CREATE TABLE audit_heads (
    workspace_id  TEXT PRIMARY KEY REFERENCES workspaces(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    hash          TEXT NOT NULL
);
