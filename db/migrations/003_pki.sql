-- 003_pki: revocation status, CRLs and the OCSP responder (docs/pki.md).
-- Times are UTC (timestamptz). Serials as in 002_ca.

-- One row per CA: the last cRLNumber issued (RFC 5280 §5.2.3) and a
-- revocation sequence bumped by every revocation of a certificate of
-- that CA. Both are updated with UPDATE ... RETURNING inside the
-- transaction, so the row lock orders CRL numbers across nodes and a
-- CRL that carries a higher number was built from a later snapshot.
CREATE TABLE ca_status (
	ca_name text PRIMARY KEY REFERENCES ca (name),
	crl_number bigint NOT NULL DEFAULT 0 CHECK (crl_number >= 0),
	rev_seq bigint NOT NULL DEFAULT 0 CHECK (rev_seq >= 0)
);

-- Every CRL issued, DER as signed in the HSM. rev_seq is ca_status.rev_seq
-- as seen when the CRL was built: a CRL with rev_seq below the current one
-- misses a revocation and is reissued at once (sceaud's CRL worker).
CREATE TABLE crls (
	ca_name text NOT NULL REFERENCES ca (name),
	number bigint NOT NULL CHECK (number > 0),
	this_update timestamptz NOT NULL,
	next_update timestamptz NOT NULL CHECK (next_update > this_update),
	rev_seq bigint NOT NULL,
	entries integer NOT NULL CHECK (entries >= 0),
	der bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (ca_name, number)
);

-- Every change to a certificate's revocation columns, by sceau or by
-- hand, bumps its CA's rev_seq in the same transaction (issuance steps
-- do not: OCSP never caches "unknown"). The OCSP
-- responders of every node poll the sum of rev_seq (their "epoch") and
-- stop serving cached answers built before it changed (docs/pki.md).
CREATE FUNCTION pki_rev_seq_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
	    OR NEW.revocation_reason IS DISTINCT FROM OLD.revocation_reason
	    OR NEW.invalidity_date IS DISTINCT FROM OLD.invalidity_date THEN
		INSERT INTO ca_status (ca_name, rev_seq) VALUES (NEW.ca_name, 1)
		ON CONFLICT (ca_name) DO UPDATE SET rev_seq = ca_status.rev_seq + 1;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER certificates_rev_seq AFTER UPDATE ON certificates
	FOR EACH ROW EXECUTE FUNCTION pki_rev_seq_bump();
