-- 002_ca: the certificate authority (hierarchy, requests, certificates).
-- Serials are lower-case hex of the certificate's positive INTEGER, as
-- encoded in DER (no sign byte): ≥ 64 bits from the CSPRNG (RFC 5280
-- §4.1.2.2, CA/B BR 7.1). Times are UTC (timestamptz).

-- The CAs of the hierarchy: the root and the issuing CAs.
CREATE TABLE ca (
	name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
	kind text NOT NULL CHECK (kind IN ('root', 'issuing')),
	parent text REFERENCES ca (name),
	key_alias text NOT NULL UNIQUE,
	subject text NOT NULL,           -- RFC 2253 text, for display
	cert_der bytea NOT NULL,
	name_hash bytea NOT NULL,        -- SHA-1 of the DER subject (RFC 6960 §4.1.1)
	key_hash bytea NOT NULL,         -- SHA-1 of the subjectPublicKey bits
	not_after timestamptz NOT NULL,
	active boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	CHECK ((kind = 'root') = (parent IS NULL))
);

-- Registration requests and their approvals (Law 2016-012, EN 319 411-1
-- four-eyes: the submitter never approves).
CREATE TABLE requests (
	id bigserial PRIMARY KEY,
	profile text NOT NULL,
	csr_der bytea,
	key_alias text,
	subject jsonb NOT NULL,
	evidence text,
	status text NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'issued', 'rejected', 'failed')),
	approvals_needed integer NOT NULL CHECK (approvals_needed >= 1),
	submitted_by text NOT NULL,
	submitted_at timestamptz NOT NULL DEFAULT now(),
	decided_at timestamptz,
	reason text,
	serial text,
	CHECK ((csr_der IS NULL) <> (key_alias IS NULL))
);

CREATE TABLE approvals (
	request_id bigint NOT NULL REFERENCES requests (id),
	approver text NOT NULL,
	approved_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (request_id, approver)
);

-- Every certificate, from the moment its serial is reserved (Boulder's
-- issuance cycle): reserved -> linted -> issued, or failed. A crash
-- leaves a visible row; nothing is ever signed without one.
CREATE TABLE certificates (
	serial text PRIMARY KEY CHECK (serial ~ '^[0-9a-f]{16,40}$'),
	ca_name text NOT NULL REFERENCES ca (name),
	profile text NOT NULL,
	request_id bigint REFERENCES requests (id),
	status text NOT NULL
		CHECK (status IN ('reserved', 'linted', 'issued', 'failed')),
	subject text,
	key_alias text,
	not_before timestamptz,
	not_after timestamptz,
	tbs_der bytea,                   -- the linted TBSCertificate
	cert_der bytea,                  -- the issued certificate
	failure text,
	revoked_at timestamptz,
	revocation_reason smallint
		CHECK (revocation_reason BETWEEN 0 AND 10 AND revocation_reason <> 7),
	invalidity_date timestamptz,
	created_at timestamptz NOT NULL DEFAULT now(),
	issued_at timestamptz,
	CHECK (status <> 'issued' OR cert_der IS NOT NULL),
	CHECK (revoked_at IS NULL OR status = 'issued')
);
CREATE INDEX certificates_revoked ON certificates (ca_name, revoked_at)
	WHERE revoked_at IS NOT NULL;

-- Certificates of the service's own units: TSA units and OCSP responders.
CREATE TABLE service_certs (
	id bigserial PRIMARY KEY,
	kind text NOT NULL CHECK (kind IN ('tsa', 'ocsp')),
	ca_name text NOT NULL REFERENCES ca (name),
	key_alias text NOT NULL,
	serial text NOT NULL REFERENCES certificates (serial),
	cert_der bytea NOT NULL,
	not_after timestamptz NOT NULL,
	active boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX service_certs_active ON service_certs (kind, ca_name)
	WHERE active;
