-- One row per session. data holds the whole record (session.EncodeRecord);
-- the other columns are what queries filter, order and expire on.
-- {{table}} is replaced by the table name (Options.Table).
CREATE TABLE IF NOT EXISTS "{{table}}" (
	id                text        PRIMARY KEY,         -- hex SHA-256 of the session token
	version           bigint      NOT NULL,            -- compared by Commit
	subject           text        NOT NULL DEFAULT '', -- '' when anonymous and for tombstones
	created           timestamptz NOT NULL,
	expires           timestamptz NOT NULL,            -- LEAST(idle_deadline, absolute_deadline)
	last_active       timestamptz NOT NULL,            -- Touch moves these two and expires
	idle_deadline     timestamptz NOT NULL,            -- without rewriting data; Load merges them
	absolute_deadline timestamptz NOT NULL,
	tombstone         boolean     NOT NULL DEFAULT false, -- the session was renewed to another ID
	data              bytea       NOT NULL
);

CREATE INDEX IF NOT EXISTS "{{table}}_expires_idx" ON "{{table}}" (expires);

CREATE INDEX IF NOT EXISTS "{{table}}_subject_idx" ON "{{table}}" (subject, created) WHERE subject <> '';
