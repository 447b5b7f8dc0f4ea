#!/usr/bin/env bash
# Integration: `sceau key generate` makes keys that pkcs11-tool (OpenSC,
# not sceau) lists as sensitive and never extractable, that sign in the
# HSM, and whose signatures openssl verifies. CLI exit codes.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup keys
PIN=$(cat "$E2E_ENV/hsm.pin")
MOD=${SOFTHSM_MODULE}

for type in ec-p256 ec-p384 rsa-2048; do
	alias="k1-$type-$RANDOM"
	"$E2E_BIN/sceau" key generate --alias "$alias" --type "$type" >"$T/$alias.pem"
	rc=$?
	ok '[ $rc -eq 0 ] && grep -q "BEGIN PUBLIC KEY" "$T/$alias.pem"' "$type: generated, public key printed"
	pkcs11-tool --module "$MOD" --token-label sceau --login --pin "$PIN" \
		--list-objects --type privkey --label "$alias" >"$T/objs" 2>/dev/null
	ok 'grep -q "label:[[:space:]]*$alias" "$T/objs"' "$type: pkcs11-tool finds the private key"
	ok 'grep -A12 "label:[[:space:]]*$alias" "$T/objs" | grep -q "Access:.*never extractable"' "$type: never extractable"
	ok 'grep -A12 "label:[[:space:]]*$alias" "$T/objs" | grep -q "Access:.*sensitive"' "$type: sensitive"
	ok '! grep -A4 "label:[[:space:]]*$alias" "$T/objs" | grep "Access:" | sed "s/never extractable//" | grep -q extractable' "$type: not extractable"
	ok '! grep -A4 "label:[[:space:]]*$alias" "$T/objs" | grep "Usage:" | grep -qE "decrypt|unwrap|derive"' "$type: signing only (no decrypt, unwrap or derive)"
	# Reading the private value must fail (CKA_SENSITIVE).
	ok '! pkcs11-tool --module "$MOD" --token-label sceau --login --pin "$PIN" --read-object --type privkey --label "$alias" -o "$T/leak" >/dev/null 2>&1 || [ ! -s "$T/leak" ]' \
		"$type: the private value cannot be read out"
	mkdir -p "$T/chk-$alias"
	"$E2E_BIN/sceau" key check --alias "$alias" --out "$T/chk-$alias" >/dev/null
	rc=$?
	ok '[ $rc -eq 0 ]' "$type: sceau signs with it in the HSM"
	ok 'openssl dgst -sha256 -verify "$T/$alias.pem" -signature "$T/chk-$alias/signature.der" "$T/chk-$alias/challenge.bin" >/dev/null' \
		"$type: openssl verifies the HSM signature"
	printf x >>"$T/chk-$alias/challenge.bin"
	ok '! openssl dgst -sha256 -verify "$T/$alias.pem" -signature "$T/chk-$alias/signature.der" "$T/chk-$alias/challenge.bin" >/dev/null 2>&1' \
		"$type: and rejects it over other bytes"
done

"$E2E_BIN/sceau" key generate --alias "k1-ec-p256-dup" --type ec-p256 >/dev/null
"$E2E_BIN/sceau" key generate --alias "k1-ec-p256-dup" --type ec-p256 >/dev/null 2>"$T/err"
rc=$?
ok '[ $rc -eq 1 ] && grep -q "alias" "$T/err"' "duplicate alias: exit 1 with a message"
"$E2E_BIN/sceau" key generate --alias x --type dsa >/dev/null 2>&1
rc=$?
ok '[ $rc -eq 64 ]' "unknown key type: exit 64"
"$E2E_BIN/sceau" key generate --alias x >/dev/null 2>&1
rc=$?
ok '[ $rc -eq 64 ]' "missing option: exit 64"
"$E2E_BIN/sceau" key frobnicate >/dev/null 2>&1
rc=$?
ok '[ $rc -eq 64 ]' "unknown sub-command: exit 64"
"$E2E_BIN/sceau" nothing >/dev/null 2>&1
rc=$?
ok '[ $rc -eq 64 ]' "unknown command: exit 64"
"$E2E_BIN/sceau" key check --alias no-such-key >/dev/null 2>&1
rc=$?
ok '[ $rc -eq 1 ]' "check of a missing key: exit 1"
"$E2E_BIN/sceau" key --help | grep -q "generate"
rc=$?
ok '[ $rc -eq 0 ]' "key --help"
for c in db token key audit; do
	"$E2E_BIN/sceau" $c --help >/dev/null
	rc=$?
	ok '[ $rc -eq 0 ]' "$c --help exits 0"
done
"$E2E_BIN/sceau" --config /nonexistent/sceau.conf audit verify >/dev/null 2>"$T/err"
rc=$?
ok '[ $rc -eq 1 ] && grep -q "/nonexistent/sceau.conf" "$T/err"' "missing configuration named in the error"
printf '[server]\nport = 99999\n' >"$T/bad.conf"
"$E2E_BIN/sceau" --config "$T/bad.conf" audit verify >/dev/null 2>"$T/err"
rc=$?
ok '[ $rc -eq 1 ] && grep -q "server.port" "$T/err"' "out-of-range configuration value refused"
"$E2E_BIN/sceau" token create --role emperor --name x >/dev/null 2>&1
rc=$?
ok '[ $rc -eq 64 ]' "unknown role: exit 64"

# A wrong PIN is refused, and the PIN never appears in any output.
echo "000000wrong" >"$T/wrong.pin"
sed "s|^pin_file = .*|pin_file = $T/wrong.pin|" "$SCEAU_CONFIG" >"$T/wrongpin.conf"
"$E2E_BIN/sceau" --config "$T/wrongpin.conf" key check --alias "k1-ec-p256-dup" >"$T/out" 2>&1
rc=$?
ok '[ $rc -eq 1 ]' "wrong PIN: exit 1"
ok '! grep -q "000000wrong" "$T/out" && ! grep -q "$PIN" "$T/out"' "PINs never printed"
e2e_done
