#!/usr/bin/env bash
# Integration + interop: `sceau sign xades` and POST /api/v1/sign/xades
# against the demonstration hierarchy (`sceau init --demo`, `sceau cert
# issue`), sceau's TSA and OCSP responder over HTTP. Every signature is
# checked by `xmlsec1 --verify` (XMLDSig core, chain to the demo root)
# and, when installed, by xadesjs (tests/xades/verify.js); every
# signature leaves an audit event; hostile XML gets invalid_xml.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
SC="$E2E_BIN/sceau"
"$SC" init --help >/dev/null 2>&1 || e2e_skip "sceau init is not built yet"
"$SC" cert --help 2>&1 | grep -q "cert issue" || e2e_skip "sceau cert issue is not built yet"
command -v xmlsec1 >/dev/null || e2e_skip "xmlsec1 is missing"
XJS=0
if [ -d "$E2E_ROOT/tests/xades/node_modules/xadesjs" ] && command -v node >/dev/null; then
	XJS=1
elif [ "${SCEAU_E2E_REQUIRED:-0}" = 1 ]; then
	echo "FAIL: xadesjs not installed, run npm ci in tests/xades" >&2
	exit 1
fi
e2e_setup xades
cd "$T" || exit 1
e2e_demo_server
A="xades-$RANDOM$RANDOM"
"$SC" key generate --alias "$A" --type ec-p256 >/dev/null
echo '{"givenName":"Awa","surname":"Traoré","commonName":"Awa Traoré","title":"Directrice"}' >awa.json
"$SC" cert issue --profile person --key "$A" --subject awa.json --out awa.pem >/dev/null
rc=$?
ok '[ $rc = 0 ]' "certificate issued for the signing key"
"$SC" ca cert root >root.pem
for ca in $("$SC" ca list | awk '{print $1}'); do
	[ "$ca" = root ] || "$SC" ca cert "$ca" >>chain.pem
done
cat >doc.xml <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<decision xmlns="urn:example:sceau" numero="2026-042"><objet>Attribution</objet><montant devise="XOF">1500000</montant></decision>
EOF
printf 'detached data\n' >data.bin

xv() { # xv FILE [remote]: xmlsec1 accepts
	xmlsec1 --verify --enabled-key-data x509 \
		--enabled-reference-uris "empty,same-doc${2:+,remote}" \
		--trusted-pem root.pem --untrusted-pem chain.pem \
		--id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties "$1" >"$1.xmlsec1" 2>&1
}
jv() { # jv FILE [args]: xadesjs accepts (or is not installed)
	[ $XJS = 0 ] && return 0
	local f=$1
	shift
	node "$E2E_ROOT/tests/xades/verify.js" "$f" "$@" >"$f.xadesjs" 2>&1
}
audits() {
	e2e_psql -c "select count(*) from audit_log where action = 'sign.xades' and object = '$A'"
}

# CLI at each level and packaging
n0=$(audits)
for lv in B-B B-T B-LT B-LTA; do
	"$SC" sign xades doc.xml "env-$lv.xml" --key "$A" --level "$lv" >"env-$lv.out" 2>&1
	rc=$?
	ok '[ $rc = 0 ] && xv "env-$lv.xml" && jv "env-$lv.xml"' "CLI enveloped $lv: xmlsec1 and xadesjs accept"
done
ok 'grep -q "<xades:EncapsulatedOCSPValue>\|<xades:EncapsulatedCRLValue>" env-B-LT.xml' "B-LT carries revocation values from sceaud"
ok 'grep -q "xades141:ArchiveTimeStamp" env-B-LTA.xml' "B-LTA carries an archive time-stamp"
"$SC" sign xades doc.xml enveloping.xml --key "$A" --packaging enveloping --level B-T >/dev/null
rc=$?
ok '[ $rc = 0 ] && xv enveloping.xml && jv enveloping.xml' "CLI enveloping B-T"
"$SC" sign xades data.bin detached.xml --key "$A" --packaging detached --mime text/plain >/dev/null
rc=$?
ok '[ $rc = 0 ] && xv detached.xml remote && jv detached.xml --data data.bin=data.bin' "CLI detached B-B"
"$SC" sign xades env-B-B.xml ext.xml --extend B-LTA >/dev/null 2>ext.err
rc=$?
ok '[ $rc = 0 ] && xv ext.xml && grep -q ArchiveTimeStamp ext.xml' "CLI --extend B-B to B-LTA"
n1=$(audits)
ok '[ "$n1" = $((n0 + 6)) ]' "one sign.xades audit event per signature ($n0 -> $n1)"
ok '[ "$(e2e_psql -c "select count(*) from audit_log where action = '"'"'sign.xades.extend'"'"'")" = 1 ]' "sign.xades.extend audited"

# hostile input: clear error, exit 65, nothing written
printf '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>' >laughs.xml
"$SC" sign xades laughs.xml bad.xml --key "$A" >bad.out 2>&1
rc=$?
ok '[ $rc = 65 ] && [ ! -e bad.xml ] && grep -qi "DOCTYPE" bad.out' "CLI: DOCTYPE refused (exit 65, no output)"
printf '<a><b></a>' >broken.xml
"$SC" sign xades broken.xml bad.xml --key "$A" >bad.out 2>&1
rc=$?
ok '[ $rc = 65 ] && [ ! -e bad.xml ]' "CLI: malformed XML refused (exit 65)"

# HTTP
SIGNER=$(e2e_token signer "xsigner-$RANDOM" "$A")
OTHER=$(e2e_token signer "xother-$RANDOM" "nope-$RANDOM")
http POST "/api/v1/sign/xades?key=$A&level=B-T" -H "Authorization: Bearer $SIGNER" \
	-H 'Content-Type: application/xml' --data-binary @doc.xml
cp "$T/body" api.xml
ok '[ "$STATUS" = 200 ] && [ "$CTYPE" = application/xml ] && xv api.xml && jv api.xml' "API enveloped B-T: 200, xmlsec1 and xadesjs accept"
http POST "/api/v1/sign/xades?key=$A&packaging=enveloping" -H "Authorization: Bearer $SIGNER" \
	-H 'Content-Type: text/xml' --data-binary @doc.xml
cp "$T/body" api2.xml
ok '[ "$STATUS" = 200 ] && xv api2.xml' "API enveloping: 200"
http POST "/api/v1/sign/xades?key=$A&packaging=detached&uri=data.bin" -H "Authorization: Bearer $SIGNER" \
	-H 'Content-Type: application/octet-stream' --data-binary @data.bin
cp "$T/body" api3.xml
ok '[ "$STATUS" = 200 ] && xv api3.xml remote' "API detached: 200"
http POST "/api/v1/sign/xades?key=$A" -H "Authorization: Bearer $OTHER" \
	-H 'Content-Type: application/xml' --data-binary @doc.xml
ok '[ "$STATUS" = 403 ] && [ "$(jfield code)" = forbidden ]' "API: another token's key: 403"
http POST "/api/v1/sign/xades?key=$A" -H "Authorization: Bearer $SIGNER" \
	-H 'Content-Type: application/xml' --data-binary @laughs.xml
ok '[ "$STATUS" = 400 ] && [ "$(jfield code)" = invalid_xml ]' "API: billion laughs: 400 invalid_xml"
printf '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>' >xxe.xml
http POST "/api/v1/sign/xades?key=$A" -H "Authorization: Bearer $SIGNER" \
	-H 'Content-Type: application/xml' --data-binary @xxe.xml
ok '[ "$STATUS" = 400 ] && [ "$(jfield code)" = invalid_xml ] && ! grep -q root: "$T/body"' "API: external entity: 400 invalid_xml, nothing read"
http POST "/api/v1/sign/xades?key=$A&level=B-Z" -H "Authorization: Bearer $SIGNER" \
	-H 'Content-Type: application/xml' --data-binary @doc.xml
ok '[ "$STATUS" = 400 ]' "API: unknown level: 400"
http POST "/api/v1/sign/xades?key=$A" -H "Authorization: Bearer $SIGNER" \
	-H 'Content-Type: application/pdf' --data-binary @doc.xml
ok '[ "$STATUS" = 415 ]' "API: not XML: 415"
n2=$(audits)
ok '[ "$n2" = $((n1 + 3)) ]' "API signatures audited, refusals not"
# a parallel detached signature beside the CLI's detached one
"$SC" sign xades data.bin par.xml --key "$A" --packaging detached --parallel detached.xml >/dev/null
rc=$?
ok '[ $rc = 0 ] && grep -q "<asic:XAdESSignatures" par.xml && jv par.xml --data data.bin=data.bin' "CLI parallel detached signatures: xadesjs accepts both"
e2e_done
