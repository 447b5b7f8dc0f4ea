-- 001_foundation: API tokens and the hash-chained audit log.
--
-- Applied by sc_db_migrate() inside one transaction together with its
-- schema_migrations row: no BEGIN/COMMIT in this file.

CREATE TABLE api_tokens (
	id bigserial PRIMARY KEY,
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
	role text NOT NULL
	    CHECK (role IN ('ca_admin', 'ra_officer', 'auditor', 'signer')),
	key_alias text,
	-- SHA-256 of the token text ("sc_..."); the token itself is never
	-- stored.
	token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	created_at timestamptz NOT NULL DEFAULT now(),
	revoked_at timestamptz
);

-- The audit log (Law 2016-012 Art. 120). Each row is chained to the
-- previous one:
--   hash = SHA-256(prev_hash || L(id) || L(at) || L(actor) || L(role)
--                  || L(action) || L(object) || L(details))
-- where L(x) is x's 4-byte big-endian length followed by x, id is decimal
-- text and at is RFC 3339 UTC with microseconds
-- ("2026-11-27T05:06:12.123456Z"). The first row has 32 zero bytes as
-- prev_hash. id is the previous id + 1, assigned under an advisory lock
-- by sc_db_audit_append(), so a gap reveals a deletion.
--
-- The chain detects a change made without rewriting every later row.
-- It cannot, alone, detect the removal of the LAST rows, nor a complete
-- rewrite of the chain by someone with write access: operators record
-- the head hash printed by `sceau audit verify` outside the database.
CREATE TABLE audit_log (
	id bigint PRIMARY KEY CHECK (id >= 1),
	at timestamptz NOT NULL,
	actor text NOT NULL,
	role text NOT NULL,
	action text NOT NULL,
	object text NOT NULL DEFAULT '',
	details text NOT NULL DEFAULT '{}' CHECK (details::jsonb IS NOT NULL),
	prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
	hash bytea NOT NULL UNIQUE CHECK (length(hash) = 32)
);

-- Append-only for ordinary use. A superuser or the table owner can still
-- run ALTER TABLE audit_log DISABLE TRIGGER ..., which is exactly the
-- attacker that the hash chain (and the externally recorded head) is
-- for; the tests tamper that way.
CREATE FUNCTION audit_log_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
	    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();

-- Role separation (a sketch, for production). Migrations run as the
-- owner of the schema; the server should connect as a member of
-- sceau_app, which may add to the audit log but neither change nor
-- delete it, and cannot disable the triggers (it does not own the
-- table). The role is cluster-wide: it is created only when the
-- migrating user may create roles, and never given LOGIN here.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user
	    AND (rolsuper OR rolcreaterole)) THEN
		IF NOT EXISTS (SELECT 1 FROM pg_roles
		    WHERE rolname = 'sceau_app') THEN
			CREATE ROLE sceau_app NOLOGIN;
		END IF;
		GRANT USAGE ON SCHEMA public TO sceau_app;
		GRANT SELECT, INSERT ON audit_log TO sceau_app;
		GRANT SELECT, INSERT, UPDATE ON api_tokens TO sceau_app;
		GRANT USAGE ON SEQUENCE api_tokens_id_seq TO sceau_app;
	END IF;
END
$$;
