-- One row per session. data holds the whole record (session.EncodeRecord);
-- the other columns are what queries filter, order and expire on. Times are
-- Unix microseconds (UTC), so they mean the same whatever the time_zone, loc
-- and parseTime settings. {{table}} is replaced by Options.Table.
-- Statements end with a semicolon at the end of a line.
CREATE TABLE IF NOT EXISTS `{{table}}` (
	id                CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'hex SHA-256 of the session token',
	version           BIGINT UNSIGNED NOT NULL COMMENT 'compared by Commit',
	subject           VARBINARY(255) NOT NULL DEFAULT '' COMMENT 'empty when anonymous and for tombstones',
	created           BIGINT NOT NULL COMMENT 'Unix microseconds, as every time column',
	expires           BIGINT NOT NULL COMMENT 'LEAST(idle_deadline, absolute_deadline)',
	last_active       BIGINT NOT NULL COMMENT 'Touch moves last_active, idle_deadline and expires without rewriting data',
	idle_deadline     BIGINT NOT NULL,
	absolute_deadline BIGINT NOT NULL,
	tombstone         BOOLEAN NOT NULL DEFAULT FALSE COMMENT 'the session was renewed to another ID',
	data              LONGBLOB NOT NULL,
	PRIMARY KEY (id),
	KEY `{{table}}_expires_idx` (expires),
	KEY `{{table}}_subject_idx` (subject, created)
) ENGINE=InnoDB;
