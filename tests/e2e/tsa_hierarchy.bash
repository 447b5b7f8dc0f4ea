# shellcheck shell=bash
# Shared by tests/e2e/tsa_openssl.sh and bench/tsa/run.sh: a TSA unit in a
# throw-away installation, for as long as `sceau init` is not there (and
# for the benchmark, which wants to know the unit's key alias).

# der_hex FILE.pem: the certificate's DER as hex.
der_hex() { openssl x509 -in "$1" -outform DER | xxd -p | tr -d '\n'; }

# tsa_make_hierarchy SCEAU PIN_FILE DIR: root -> issuing CA -> TSA unit,
# keys generated in the HSM by `sceau key generate`, certificates signed
# in the HSM through OpenSSL's pkcs11 engine, rows inserted (ca,
# certificates, service_certs) as `sceau init` does, through the
# caller's tsa_psql function. Leaves DIR/root.pem, ica.pem, tsu.pem and
# sets TSA_UNIT_ALIAS, the unit's key.
tsa_make_hierarchy() {
	local sceau=$1 pin_file=$2 dir=$3
	local pin sfx a
	pin=$(cat "$pin_file")
	sfx=$(head -c 6 /dev/urandom | xxd -p)
	for a in root ica tsu; do
		"$sceau" key generate --alias "e2e-$a-$sfx" --type ec-p256 >/dev/null ||
			{ echo "key generate failed" >&2; return 1; }
	done
	uri() { echo "pkcs11:token=sceau;object=e2e-$1-$sfx;type=private;pin-value=$pin"; }
	cat >"$dir/x.cnf" <<'EOF'
[req]
distinguished_name = dn
x509_extensions = root
[dn]
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ica]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[tsu]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
	openssl req -new -x509 -config "$dir/x.cnf" -engine pkcs11 -keyform engine \
		-key "$(uri root)" -subj "/C=ML/O=sceau e2e/CN=e2e root" -days 30 \
		-sha256 -set_serial "0x$(head -c 16 /dev/urandom | xxd -p | sed 's/^./4/')" \
		-out "$dir/root.pem" 2>"$dir/openssl.err" || { cat "$dir/openssl.err" >&2; return 1; }
	for a in ica tsu; do
		local issuer=root cn="e2e issuing CA"
		[ $a = tsu ] && issuer=ica && cn="e2e TSA unit"
		openssl req -new -config "$dir/x.cnf" -engine pkcs11 -keyform engine \
			-key "$(uri $a)" -subj "/C=ML/O=sceau e2e/CN=$cn" \
			-out "$dir/$a.csr" 2>"$dir/openssl.err" &&
			openssl x509 -req -in "$dir/$a.csr" -engine pkcs11 -CAkeyform engine \
				-CA "$dir/$issuer.pem" -CAkey "$(uri $issuer)" -days 20 -sha256 \
				-set_serial "0x$(head -c 16 /dev/urandom | xxd -p | sed 's/^./4/')" \
				-extfile "$dir/x.cnf" -extensions $a -out "$dir/$a.pem" 2>"$dir/openssl.err" ||
			{ cat "$dir/openssl.err" >&2; return 1; }
	done
	local tser
	tser=$(openssl x509 -in "$dir/tsu.pem" -noout -serial | sed 's/serial=//' | tr 'A-F' 'a-f')
	tsa_psql <<EOF || { echo "cannot insert the hierarchy" >&2; return 1; }
INSERT INTO ca (name, kind, parent, key_alias, subject, cert_der, name_hash, key_hash, not_after)
VALUES ('e2e-root', 'root', NULL, 'e2e-root-$sfx', 'CN=e2e root', decode('$(der_hex "$dir/root.pem")', 'hex'),
        '\x00', '\x00', now() + interval '30 days'),
       ('e2e-ica', 'issuing', 'e2e-root', 'e2e-ica-$sfx', 'CN=e2e issuing CA', decode('$(der_hex "$dir/ica.pem")', 'hex'),
        '\x00', '\x00', now() + interval '20 days');
INSERT INTO certificates (serial, ca_name, profile, status, subject, key_alias, cert_der, issued_at)
VALUES ('$tser', 'e2e-ica', 'tsa', 'issued', 'CN=e2e TSA unit', 'e2e-tsu-$sfx', decode('$(der_hex "$dir/tsu.pem")', 'hex'), now());
INSERT INTO service_certs (kind, ca_name, key_alias, serial, cert_der, not_after)
VALUES ('tsa', 'e2e-ica', 'e2e-tsu-$sfx', '$tser', decode('$(der_hex "$dir/tsu.pem")', 'hex'), now() + interval '20 days');
EOF
	TSA_UNIT_ALIAS="e2e-tsu-$sfx"
}
