# shellcheck shell=bash
# Shared by tests/e2e/*.sh: a fresh database in the test cluster, a
# sceaud on an ephemeral port, and HTTP helpers. Source, then e2e_setup.
set -uo pipefail

E2E_ROOT=${SCEAU_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
E2E_BIN=${SCEAU_BIN:-$E2E_ROOT/build/bin}
# shellcheck source=../../scripts/lib/env.sh
. "$E2E_ROOT/scripts/lib/env.sh"

e2e_skip() {
	if [ "${SCEAU_E2E_REQUIRED:-0}" = 1 ]; then
		echo "FAIL: $* (SCEAU_E2E_REQUIRED=1)" >&2
		exit 1
	fi
	echo "SKIPPED: $*" >&2
	exit 77
}

E2E_FAILS=0
E2E_CHECKS=0
# ok COND MESSAGE: counts a check; prints failures.
ok() {
	E2E_CHECKS=$((E2E_CHECKS + 1))
	if eval "$1"; then
		echo "ok - $2"
	else
		echo "not ok - $2   [$1]" >&2
		E2E_FAILS=$((E2E_FAILS + 1))
	fi
}

e2e_done() {
	echo "# $E2E_CHECKS checks, $E2E_FAILS failed"
	[ "$E2E_FAILS" -eq 0 ] && [ "$E2E_CHECKS" -gt 0 ]
}

# e2e_setup NAME: private dir $T, its own database in the shared
# cluster ($SCEAU_TEST_ENV), sceau.conf with port 0, migrations applied.
e2e_setup() {
	local name=$1 envdir=${SCEAU_TEST_ENV:-}
	[ -n "$envdir" ] && [ -f "$envdir/sceau.conf" ] ||
		e2e_skip "SCEAU_TEST_ENV is not set (run through scripts/test)"
	T=$(mktemp -d "/tmp/sceau-e2e-$name.XXXXXX")
	E2E_DB="t_${name}_$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	E2E_PGHOST="$envdir/pgsock"
	"$PGBIN/createdb" -h "$E2E_PGHOST" -U postgres "$E2E_DB" || exit 1
	sed -e "s|^url_file = .*|url = host=$E2E_PGHOST port=5432 dbname=$E2E_DB user=postgres|" \
		-e "s|^port = .*|port = 0|" \
		-e "s|^file = .*|file = $T/sceaud.log|" "$envdir/sceau.conf" >"$T/sceau.conf"
	export SCEAU_CONFIG="$T/sceau.conf" SOFTHSM2_CONF="$envdir/softhsm2.conf"
	E2E_ENV=$envdir
	trap e2e_teardown EXIT
	"$E2E_BIN/sceau" db migrate >/dev/null || { echo "migrate failed" >&2; exit 1; }
}

e2e_teardown() {
	e2e_stop_server
	if [ -n "${E2E_DB:-}" ] && [ -n "${E2E_PGHOST:-}" ]; then
		"$PGBIN/dropdb" -h "$E2E_PGHOST" -U postgres --if-exists "$E2E_DB" 2>/dev/null
	fi
	[ -n "${E2E_KEEP:-}" ] || rm -rf "${T:?}"
}

# e2e_fixed_port: a free port written into sceau.conf as the server's port
# and public_url, so that the OCSP, CRL and CA URLs that `sceau init`
# puts in certificates reach this test's sceaud. Sets PORT.
e2e_fixed_port() {
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	sed -i -e "s|^port = .*|port = $PORT|" \
		-e "s|^public_url = .*|public_url = http://127.0.0.1:$PORT|" "$SCEAU_CONFIG"
}

# e2e_demo_server: e2e_fixed_port, `sceau init --demo` (one check), and
# sceaud started on that port.
e2e_demo_server() {
	local rc
	e2e_fixed_port
	"$E2E_BIN/sceau" init --demo >"$T/init.out" 2>&1
	rc=$?
	ok "[ $rc = 0 ]" "sceau init --demo"
	e2e_start_server
}

# psql on the test's database.
e2e_psql() {
	PGOPTIONS="-c client_min_messages=warning" "$PGBIN/psql" -h "$E2E_PGHOST" -U postgres -d "$E2E_DB" -v ON_ERROR_STOP=1 -qtA "$@"
}

# e2e_start_server: sceaud on an ephemeral port; sets URL and SPID.
e2e_start_server() {
	rm -f "$T/port"
	"$E2E_BIN/sceaud" --config "$SCEAU_CONFIG" --port-file "$T/port" \
		>>"$T/sceaud.out" 2>&1 &
	SPID=$!
	local deadline=$((SECONDS + 60))
	until [ -s "$T/port" ] && URL="http://127.0.0.1:$(cat "$T/port")" &&
		curl -fsS -o /dev/null --max-time 2 "$URL/healthz"; do
		if [ $SECONDS -ge $deadline ] || ! kill -0 "$SPID" 2>/dev/null; then
			echo "sceaud did not start:" >&2
			cat "$T/sceaud.out" "$T/sceaud.log" >&2 2>/dev/null
			exit 1
		fi
		sleep 0.1
	done
}

e2e_stop_server() {
	if [ -n "${SPID:-}" ] && kill -0 "$SPID" 2>/dev/null; then
		kill -TERM "$SPID"
		wait "$SPID" 2>/dev/null
		local rc=$?
		# A sanitizer report makes the server exit non-zero.
		if [ "$rc" -ne 0 ]; then
			echo "sceaud exited with $rc:" >&2
			tail -30 "$T/sceaud.out" >&2
			E2E_FAILS=$((E2E_FAILS + 1))
		fi
	fi
	SPID=
}

# http METHOD PATH [curl args...]: sets STATUS, BODY (file $T/body),
# CTYPE.
http() {
	local method=$1 path=$2
	shift 2
	local out
	out=$(curl -sS -o "$T/body" -w '%{http_code} %{content_type}' -X "$method" \
		--max-time 60 "$@" "$URL$path") || out="000 none"
	STATUS=${out%% *}
	CTYPE=${out#* }
	BODY=$(tr -d '\000' <"$T/body")
}

# jq-free JSON field reader (python3 is on every Debian).
jfield() {
	jget "$T/body" "$1"
}

# jget FILE PATH: a field of a JSON file ("a.0.b"), as jfield.
jget() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d=d[int(k)] if isinstance(d,list) else d.get(k)
print("null" if d is None else (str(d).lower() if isinstance(d,bool) else d))' "$1" "$2" 2>/dev/null
}

# e2e_token ROLE NAME [ALIAS]: a new bearer token from the CLI.
e2e_token() {
	"$E2E_BIN/sceau" token create --role "$1" --name "$2" ${3:+--key "$3"}
}
