#!/usr/bin/env bash
# Integration: scripts/up brings the service up (readyz 200), a second
# scripts/up is harmless, scripts/down stops everything it started. Runs
# on a private var folder (SCEAU_VAR) and the already built binaries.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
[ -n "${SCEAU_TEST_ENV:-}" ] || e2e_skip "SCEAU_TEST_ENV is not set"
T=$(mktemp -d /tmp/sceau-e2e-up.XXXXXX)
chmod 0711 "$T"
export SCEAU_VAR="$T/var" SCEAU_BUILD="$(dirname "$E2E_BIN")"
# A free port: bind 0, read it, release it.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export SCEAU_PORT=$PORT
done_all() {
	"$E2E_ROOT/scripts/down" >/dev/null 2>&1
	rm -rf "$T"
}
trap done_all EXIT
URL="http://127.0.0.1:$PORT"

"$E2E_ROOT/scripts/up" >"$T/up1.out" 2>&1
rc=$?
ok '[ $rc -eq 0 ]' "first scripts/up succeeds"
ok 'grep -q "$URL" "$T/up1.out" && grep -q "admin.token" "$T/up1.out"' "prints the URL and the admin token's file"
http GET /readyz
ok '[ "$STATUS" = 200 ]' "readyz 200"
ok '[ "$(stat -c %a "$SCEAU_VAR/hsm.pin")" = 600 ] && [ "$(stat -c %a "$SCEAU_VAR/admin.token")" = 600 ]' "hsm.pin and admin.token are 0600"
for f in sceau.conf softhsm2.conf db.url log; do
	ok '[ -e "$SCEAU_VAR/$f" ]' "var/$f exists"
done
ok '! grep -q "$(cat "$SCEAU_VAR/hsm.pin")" "$SCEAU_VAR/sceau.conf"' "the PIN is not in the configuration file"
pid1=$(cat "$SCEAU_VAR/sceaud.pid")
http GET /api/v1/whoami -H "Authorization: Bearer $(cat "$SCEAU_VAR/admin.token")"
ok '[ "$STATUS" = 200 ] && [ "$(jfield role)" = ca_admin ]' "the admin token works"
"$E2E_ROOT/scripts/up" >"$T/up2.out" 2>&1
rc=$?
ok '[ $rc -eq 0 ]' "second scripts/up succeeds"
ok '[ "$(cat "$SCEAU_VAR/sceaud.pid")" = "$pid1" ]' "second scripts/up kept the running sceaud"
http GET /api/v1/whoami -H "Authorization: Bearer $(cat "$SCEAU_VAR/admin.token")"
ok '[ "$STATUS" = 200 ]' "the admin token still works after the second up"
"$E2E_ROOT/scripts/down" >/dev/null 2>&1
rc=$?
ok '[ $rc -eq 0 ]' "scripts/down succeeds"
ok '! kill -0 $pid1 2>/dev/null' "sceaud stopped"
ok '! sc_as_pg "$PGBIN/pg_ctl" -D "$SCEAU_VAR/pg" status >/dev/null 2>&1' "PostgreSQL stopped"
http GET /healthz
ok '[ "$STATUS" = 000 ]' "nothing answers any more"
# and up again after down restarts both
"$E2E_ROOT/scripts/up" >"$T/up3.out" 2>&1
rc=$?
ok '[ $rc -eq 0 ]' "scripts/up after scripts/down"
http GET /readyz
ok '[ "$STATUS" = 200 ]' "readyz 200 again"
e2e_done
