#!/usr/bin/env bash
# Integration: the real sceaud over HTTP with PostgreSQL and SoftHSM2 —
# health, readiness, metrics, OpenAPI, authentication, roles, limits and
# every problem+json error of the foundation.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup http
e2e_start_server

ADMIN=$(e2e_token ca_admin "admin-$RANDOM")
AUDITOR=$(e2e_token auditor "auditor-$RANDOM")
SIGNER=$(e2e_token signer "signer-$RANDOM")
ok '[ ${#ADMIN} -ge 40 ] && [ "${ADMIN:0:3}" = sc_ ]' "token printed once, sc_ + base64url"
ok '[ "$(e2e_psql -c "select count(*) from api_tokens where token_hash = sha256(convert_to('"'"'$ADMIN'"'"', '"'"'UTF8'"'"'))")" = 1 ]' \
	"only the SHA-256 of the token is stored"
ok '[ "$(e2e_psql -c "select count(*) from api_tokens where encode(token_hash, '"'"'escape'"'"') like '"'"'%sc_%'"'"'")" = 0 ]' \
	"the token text is not stored"

http GET /healthz
ok '[ "$STATUS" = 200 ]' "healthz 200"
http GET /readyz
ok '[ "$STATUS" = 200 ] && [ "$(jfield database)" = ok ] && [ "$(jfield hsm)" = ok ]' "readyz 200 with database and hsm ok"

# problem+json for each caller mistake
http GET /nowhere
ok '[ "$STATUS" = 404 ] && [ "$CTYPE" = application/problem+json ] && [ "$(jfield code)" = not_found ]' "unknown route: 404 not_found"
ok '[ "$(jfield status)" = 404 ] && [ -n "$(jfield title)" ] && [ -n "$(jfield type)" ] && [ -n "$(jfield detail)" ]' \
	"problem+json has type, title, status, detail"
http DELETE /healthz
ok '[ "$STATUS" = 405 ] && [ "$(jfield code)" = method_not_allowed ]' "wrong method: 405"
ok 'curl -s -D - -o /dev/null -X PUT "$URL/api/v1/keys" | grep -qi "^Allow: POST"' "405 carries Allow"
http POST /api/v1/keys -H 'Content-Type: application/json' -d '{"alias":"x","type":"ec-p256"}'
ok '[ "$STATUS" = 401 ] && [ "$(jfield code)" = unauthorized ]' "missing token: 401"
ok 'curl -s -D - -o /dev/null -X POST "$URL/api/v1/keys" | grep -qi "^WWW-Authenticate: Bearer"' "401 carries WWW-Authenticate"
http POST /api/v1/keys -H "Authorization: Bearer sc_${ADMIN:3:10}wrong" -d '{}'
ok '[ "$STATUS" = 401 ] && [ "$(jfield code)" = unauthorized ]' "wrong token: 401"
http POST /api/v1/keys -H "Authorization: Basic YWRtaW46YWRtaW4=" -d '{}'
ok '[ "$STATUS" = 401 ]' "non-bearer scheme: 401"
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN\"; DROP TABLE" -d '{}'
ok '[ "$STATUS" = 401 ]' "bearer with garbage: 401"
http POST /api/v1/keys -H "Authorization: Bearer $AUDITOR" -H 'Content-Type: application/json' -d '{"alias":"x","type":"ec-p256"}'
ok '[ "$STATUS" = 403 ] && [ "$(jfield code)" = forbidden ]' "auditor may not generate keys: 403"
http POST /api/v1/keys -H "Authorization: Bearer $SIGNER" -d '{"alias":"x","type":"ec-p256"}'
ok '[ "$STATUS" = 403 ]' "signer may not generate keys: 403"
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN" -d '{"alias": "x", '
ok '[ "$STATUS" = 400 ] && [ "$(jfield code)" = invalid_json ]' "malformed JSON: 400 invalid_json"
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN" -d '[1,2]'
ok '[ "$STATUS" = 400 ] && [ "$(jfield code)" = invalid_json ]' "JSON that is not an object: 400"
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN" -d '{"alias":"a","alias":"b","type":"ec-p256"}'
ok '[ "$STATUS" = 400 ] && [ "$(jfield code)" = invalid_json ]' "duplicate JSON member: 400"
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN" -d '{"alias":42,"type":"ec-p256"}'
ok '[ "$STATUS" = 422 ] && [ "$(jfield code)" = invalid_input ]' "wrong member type: 422 invalid_input"
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN" -d '{"alias":"k","type":"dsa-1024"}'
ok '[ "$STATUS" = 400 ] && [ "$(jfield code)" = unknown_key_type ]' "unknown key type: 400"
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN" -d '{"alias":"../etc","type":"ec-p256"}'
ok '[ "$STATUS" = 422 ] && [ "$(jfield code)" = invalid_input ]' "bad alias: 422"
head -c 5000 /dev/zero | tr '\0' ' ' >"$T/big.json"
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN" --data-binary @"$T/big.json"
ok '[ "$STATUS" = 413 ] && [ "$(jfield code)" = payload_too_large ]' "body over the route limit (Content-Length): 413"
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN" -H 'Transfer-Encoding: chunked' --data-binary @"$T/big.json"
ok '[ "$STATUS" = 413 ] && [ "$(jfield code)" = payload_too_large ]' "chunked body over the limit: 413"
http GET /healthz -H 'Accept-Language: en' -X POST
ok '[ "$(jfield title)" = "Method not allowed" ]' "English titles with Accept-Language: en"

# key generation over HTTP, audited
alias="api-$RANDOM"
before=$(e2e_psql -c "select count(*) from audit_log")
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN" -d "{\"alias\":\"$alias\",\"type\":\"ec-p256\"}"
ok '[ "$STATUS" = 201 ] && [ "$(jfield alias)" = "$alias" ] && [ "$(jfield extractable)" = false ]' "key generated: 201"
jfield public_key_pem >"$T/pub.pem"
ok 'openssl pkey -pubin -in "$T/pub.pem" -noout -text 2>/dev/null | grep -q "prime256v1\|P-256"' "public key is P-256 (openssl)"
ok '[ "$(e2e_psql -c "select count(*) from audit_log where action = '"'"'key.generate'"'"' and object = '"'"'$alias'"'"'")" = 1 ]' \
	"key.generate audited"
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN" -d "{\"alias\":\"$alias\",\"type\":\"ec-p256\"}"
ok '[ "$STATUS" = 409 ] && [ "$(jfield code)" = key_exists ]' "same alias again: 409 key_exists"
after=$(e2e_psql -c "select count(*) from audit_log")
ok '[ "$after" = $((before + 1)) ]' "refused requests wrote no audit row"

http GET /api/v1/whoami -H "Authorization: Bearer $SIGNER"
ok '[ "$STATUS" = 200 ] && [ "$(jfield role)" = signer ]' "whoami for any role"
http GET /api/v1/audit/verify -H "Authorization: Bearer $AUDITOR"
ok '[ "$STATUS" = 200 ] && [ "$(jfield intact)" = true ]' "auditor verifies the audit chain over HTTP"
http GET /api/v1/audit/verify -H "Authorization: Bearer $SIGNER"
ok '[ "$STATUS" = 403 ]' "signer may not read the audit chain"

http GET /api/v1/openapi.json
ok '[ "$STATUS" = 200 ] && [ "$(jfield openapi)" = 3.0.3 ]' "OpenAPI document served"
for p in /healthz /readyz /metrics /api/v1/openapi.json /api/v1/keys /api/v1/audit/verify; do
	ok 'python3 -c "import json,sys; d=json.load(open(\"$T/body\")); sys.exit(0 if \"$p\" in d[\"paths\"] else 1)"' "OpenAPI lists $p"
done
http GET /metrics
ok '[ "$STATUS" = 200 ] && grep -q "sceau_http_requests_total{route=\"keys_create\",status=\"201\"} 1" "$T/body"' "metrics count requests by route and status"
ok 'grep -q "sceau_http_request_duration_seconds_bucket{le=\"+Inf\"}" "$T/body"' "metrics latency histogram"
ok 'grep -q "^sceau_db_pool_size 8" "$T/body" && grep -q "^sceau_hsm_sessions_max" "$T/body"' "metrics pool gauges"
ok 'grep -qE "^sceau_hsm_sign_total [0-9]+" "$T/body"' "metrics HSM sign counter"
ok '! grep -q "$ADMIN" "$T/sceaud.log"' "tokens never logged"

http GET /pki/cps
ok '[ "$STATUS" = 200 ] && grep -q "Politique de certification" "$T/body"' "the CPS that certificates point to is served"
http GET /pki/pds/en
ok '[ "$STATUS" = 200 ] && grep -q "Disclosure Statement" "$T/body"' "the English PDS is served"
http GET /pki/pds/xx
ok '[ "$STATUS" = 404 ] && [ "$(jfield code)" = not_found ]' "unknown PDS language: 404"
e2e_done
