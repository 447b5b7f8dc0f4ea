-- 004_tsa: the time-stamping authority's record of every token it issued
-- (ETSI EN 319 421 §7.10: records of the TSA's operation; RFC 3161 §2.4.2
-- serialNumber). A row is committed before its token leaves the server
-- (group commit, docs/tsa.md), so no client ever holds a token that this
-- table does not know. Rejections (badAlg, badDataFormat, ...) carry no
-- token and write no row.
CREATE TABLE tsa_tokens (
	-- lower-case hex of the positive INTEGER serialNumber, DER octets
	-- without a sign byte: 128 bits from the CSPRNG, unique across nodes
	serial text PRIMARY KEY CHECK (serial ~ '^[0-9a-f]{16,40}$'),
	gen_time timestamptz NOT NULL,   -- TSTInfo.genTime (UTC)
	hash_alg text NOT NULL CHECK (hash_alg IN ('sha256', 'sha384', 'sha512')),
	message_imprint bytea NOT NULL,  -- MessageImprint.hashedMessage
	policy text NOT NULL,            -- TSTInfo.policy (dotted OID)
	tsa_serial text NOT NULL,        -- serial of the TSA unit's certificate
	recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tsa_tokens_gen_time ON tsa_tokens (gen_time);
