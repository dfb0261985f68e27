-- The sessions table. Times are Unix nanoseconds (0 = not set).
--
-- data holds the whole record as session.EncodeRecord writes it. The other
-- columns copy what the store indexes, expires or touches on: Touch updates
-- last_active, idle_deadline and expires only, and Load lays those two
-- columns over the decoded record, so a touch never rewrites data or changes
-- the version.
CREATE TABLE sessions (
	id                TEXT    NOT NULL PRIMARY KEY, -- hex SHA-256 of the token
	version           INTEGER NOT NULL,
	subject           TEXT    NOT NULL DEFAULT '',  -- '' when anonymous, and for tombstones
	renewed_to        TEXT    NOT NULL DEFAULT '',  -- set on renewal tombstones
	created           INTEGER NOT NULL,
	last_active       INTEGER NOT NULL,
	idle_deadline     INTEGER NOT NULL,
	absolute_deadline INTEGER NOT NULL,
	expires           INTEGER NOT NULL,             -- min(idle_deadline, absolute_deadline)
	data              BLOB    NOT NULL
);

-- Load and the sweeper look for expires > now and expires <= now.
CREATE INDEX sessions_expires ON sessions (expires);

-- ListSubject and DeleteSubject; anonymous sessions, the most numerous,
-- are left out of the index.
CREATE INDEX sessions_subject ON sessions (subject, created) WHERE subject <> '';
