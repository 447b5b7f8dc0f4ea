# shellcheck shell=bash
# Shared by bench/*/run.sh (source it).

# bench_start_sceaud BUILD TMP: starts BUILD/bin/sceaud with $SCEAU_CONFIG
# on the port it chooses (TMP/port) and waits until /healthz answers.
# Sets SPID and port; exits the benchmark if sceaud dies.
bench_start_sceaud() {
	local build=$1 tmp=$2
	"$build/bin/sceaud" --config "$SCEAU_CONFIG" --port-file "$tmp/port" >"$tmp/sceaud.out" 2>&1 &
	SPID=$!
	for _ in $(seq 1 600); do
		[ -s "$tmp/port" ] && curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$(cat "$tmp/port")/healthz" && break
		kill -0 "$SPID" 2>/dev/null || { cat "$tmp/sceaud.out" >&2; exit 1; }
		sleep 0.1
	done
	port=$(cat "$tmp/port")
}
