#!/usr/bin/env bash
# Integration: stopping and restarting PostgreSQL under a running sceaud.
# /readyz goes 503 then 200 again without restarting sceaud; requests in
# between get 503 problem+json, never a crash. Uses a private cluster so
# that other tests keep theirs.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
[ -n "${SCEAU_TEST_ENV:-}" ] || e2e_skip "SCEAU_TEST_ENV is not set"
T=$(mktemp -d /tmp/sceau-e2e-pgrestart.XXXXXX)
chmod 0711 "$T"
P="$T/env"
stop_all() {
	e2e_stop_server
	sc_pg_stop "$P"
	rm -rf "$T"
}
trap stop_all EXIT
sc_env_init "$P" >/dev/null || exit 1
sc_pg_start "$P" || exit 1
sc_write_conf "$P" 0
sed -i "s|^file = .*|file = $T/sceaud.log|" "$P/sceau.conf"
export SCEAU_CONFIG="$P/sceau.conf" SOFTHSM2_CONF="$P/softhsm2.conf"
"$E2E_BIN/sceau" db migrate >/dev/null || exit 1
ADMIN=$(e2e_token ca_admin admin)
e2e_start_server
pid=$SPID

http GET /readyz
ok '[ "$STATUS" = 200 ]' "ready with PostgreSQL up"
sc_pg_stop "$P"
http GET /readyz
ok '[ "$STATUS" = 503 ] && [ "$CTYPE" = application/problem+json ] && [ "$(jfield code)" = service_unavailable ]' "readyz 503 problem+json while PostgreSQL is down"
http GET /api/v1/whoami -H "Authorization: Bearer $ADMIN"
ok '[ "$STATUS" = 503 ] && [ "$(jfield code)" = service_unavailable ]' "authenticated request: 503 problem+json, not a crash"
http POST /api/v1/keys -H "Authorization: Bearer $ADMIN" -d '{"alias":"down","type":"ec-p256"}'
ok '[ "$STATUS" = 503 ]' "key generation refused while the audit log is unreachable"
http GET /healthz
ok '[ "$STATUS" = 200 ]' "healthz still 200 (the process lives)"
sc_pg_start "$P" || exit 1
http GET /readyz
ok '[ "$STATUS" = 200 ]' "readyz 200 again after the restart"
http GET /api/v1/whoami -H "Authorization: Bearer $ADMIN"
ok '[ "$STATUS" = 200 ]' "authenticated requests work again"
ok 'kill -0 $pid && [ "$pid" = "$SPID" ]' "same sceaud process throughout"
ok '! pkcs11-tool --module "$SOFTHSM_MODULE" --token-label sceau --login --pin "$(cat "$P/hsm.pin")" --list-objects --type privkey 2>/dev/null | grep -q "label:[[:space:]]*down$"' \
	"no key was left behind by the refused generation"
e2e_done
