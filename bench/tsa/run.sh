#!/usr/bin/env bash
# bench/tsa/run.sh: time-stamps per second over HTTP (POST /tsa, many
# keep-alive clients), beside
#   - the HSM's raw signing rate for the same key on the same machine
#     (the ceiling: every token costs one signature), and
#   - `openssl ts -reply` in a loop (one process per token, software key
#     of the same type: OpenSSL's ts app cannot take a PKCS#11 key),
# and prints both ratios, the p50/p99 latency, and checks that every
# granted token has its row in tsa_tokens.
#
# Bounded: SECS seconds per measurement (default 10), loopback only, in a
# throw-away PostgreSQL + SoftHSM2 under /tmp. Not part of scripts/test.
#   SECS=10 CONNS=64 HSM_THREADS=8 bench/tsa/run.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${SCEAU_BUILD:-$root/build}
SECS=${SECS:-10}
CONNS=${CONNS:-64}
HSM_THREADS=${HSM_THREADS:-8}
# sceaud worker threads: a /tsa handler waits for its row's commit, so the
# server needs more workers than CPUs to keep commits batched (docs/tsa.md)
THREADS=${THREADS:-64}
# shellcheck source=../../scripts/lib/env.sh
. "$root/scripts/lib/env.sh"
# shellcheck source=../lib.sh
. "$root/bench/lib.sh"
# shellcheck source=../../tests/e2e/tsa_hierarchy.bash
. "$root/tests/e2e/tsa_hierarchy.bash"

[ -x "$BUILD/bin/sceaud" ] || { echo "build first: $BUILD/bin/sceaud" >&2; exit 1; }
tmp=$(mktemp -d /tmp/sceau-bench-tsa.XXXXXX)
chmod 0711 "$tmp"
SPID=
cleanup() {
	[ -n "$SPID" ] && kill -TERM "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	sc_pg_stop "$tmp/env" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
sc_env_init "$tmp/env" >/dev/null || exit 1
sc_pg_start "$tmp/env" || exit 1
sc_write_conf "$tmp/env" 0
export SCEAU_CONFIG="$tmp/env/sceau.conf" SOFTHSM2_CONF="$tmp/env/softhsm2.conf"
sed -i "s/^threads = .*/threads = $THREADS/" "$SCEAU_CONFIG"
tsa_psql() { "$PGBIN/psql" -h "$tmp/env/pgsock" -U postgres -d sceau -v ON_ERROR_STOP=1 -qtA "$@"; }
"$BUILD/bin/sceau" db migrate >/dev/null || exit 1
tsa_make_hierarchy "$BUILD/bin/sceau" "$tmp/env/hsm.pin" "$tmp" || exit 1
alias=$TSA_UNIT_ALIAS

# the measuring tool, against this build's hsm/ and core/
cc -O2 -D_GNU_SOURCE -I"$root/core/include" -I"$root/hsm/include" -I"$root/db/include" \
	-I"$root/tsa/include" "$root/bench/tsa/tsa_bench.c" "$BUILD/tsa/libsceau_tsa.a" \
	"$BUILD/db/libsceau_db.a" "$BUILD/hsm/libsceau_hsm.a" "$BUILD/core/libsceau_core.a" \
	$(pkg-config --libs libp11 p11-kit-1 libpq) -lcrypto -lpthread -ldl -o "$tmp/tsa_bench" || exit 1

bench_start_sceaud "$BUILD" "$tmp"
head -c 4096 /dev/urandom >"$tmp/doc.bin"
openssl ts -query -sha256 -cert -data "$tmp/doc.bin" -out "$tmp/q.tsq" 2>/dev/null
# warm-up: the unit is loaded on first use, contexts are made on demand
"$tmp/tsa_bench" http 127.0.0.1 "$port" /tsa "$tmp/q.tsq" "$CONNS" 1 >/dev/null

echo "== machine: $(nproc) CPU, $(uname -r); key: ec-p256 in SoftHSM2; $SECS s per run"
echo "== 1. HSM raw signing rate, key $alias, $HSM_THREADS threads"
hsm=$("$tmp/tsa_bench" hsm "$SCEAU_CONFIG" "$alias" "$HSM_THREADS" "$SECS") || exit 1
echo "   $hsm"
hsm_rate=$(echo "$hsm" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')

echo "== 1b. the library alone (sc_tsa_respond), without and with records"
for run in "$HSM_THREADS 0" "$HSM_THREADS 1" "$THREADS 1"; do
	set -- $run
	lib=$("$tmp/tsa_bench" lib "$SCEAU_CONFIG" "$tmp/q.tsq" "$1" "$SECS" "$2") || exit 1
	echo "   $lib"
done

echo "== 2. POST /tsa over HTTP, $CONNS keep-alive clients, sceaud with $THREADS threads"
before=$(tsa_psql -c "select count(*) from tsa_tokens")
http=$("$tmp/tsa_bench" http 127.0.0.1 "$port" /tsa "$tmp/q.tsq" "$CONNS" "$SECS")
hrc=$?
echo "   $http"
after=$(tsa_psql -c "select count(*) from tsa_tokens")
granted=$(echo "$http" | sed -n 's/^granted=\([0-9]*\).*/\1/p')
http_rate=$(echo "$http" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')
p50=$(echo "$http" | sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p')
p99=$(echo "$http" | sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p')
echo "   rows added: $((after - before)) for $granted granted tokens (+ warm-up excluded)"
curl -s "http://127.0.0.1:$port/metrics" | grep '^sceau_tsa_' | sed 's/^/   /'

echo "== 3. openssl ts -reply in a loop (software P-256 key, same profile)"
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/sw.key" 2>/dev/null
openssl req -new -x509 -key "$tmp/sw.key" -subj "/CN=openssl ts peer" -days 2 \
	-addext "extendedKeyUsage=critical,timeStamping" -out "$tmp/sw.pem" 2>/dev/null
echo 01 >"$tmp/serial"
cat >"$tmp/ts.cnf" <<EOF
[tsa]
default_tsa = t
[t]
serial = $tmp/serial
signer_cert = $tmp/sw.pem
signer_key = $tmp/sw.key
signer_digest = sha256
default_policy = 2.16.466.1.1.3.1
digests = sha256, sha384, sha512
accuracy = secs:1
ess_cert_id_alg = sha256
EOF
loop() { # loop SECONDS: replies made
	local n=0 end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		openssl ts -reply -config "$tmp/ts.cnf" -queryfile "$tmp/q.tsq" \
			-out "$tmp/r.$BASHPID.tsr" 2>/dev/null || return 1
		n=$((n + 1))
	done
	echo $n
}
t0=$(date +%s.%N)
n1=$(loop "$SECS")
t1=$(date +%s.%N)
loop_rate=$(echo "$n1 / ($t1 - $t0)" | bc -l)
printf '   one loop: %d replies, %.1f/s\n' "$n1" "$loop_rate"
ncpu=$(nproc)
t0=$(date +%s.%N)
pids=()
for i in $(seq 1 "$ncpu"); do
	loop "$SECS" >"$tmp/loop.$i" &
	pids+=($!)
done
wait "${pids[@]}" # not the server
t1=$(date +%s.%N)
np=$(cat "$tmp"/loop.* | paste -sd+ | bc)
ploop_rate=$(echo "$np / ($t1 - $t0)" | bc -l)
printf '   %d loops in parallel: %d replies, %.1f/s\n' "$ncpu" "$np" "$ploop_rate"

echo "== result"
printf '   HTTP /tsa: %.1f tokens/s (%d clients), p50 %.2f ms, p99 %.2f ms\n' \
	"$http_rate" "$CONNS" "$p50" "$p99"
printf '   HSM raw signing: %.1f/s  -> HTTP / HSM = %.1f %%  (aim >= 70 %%)\n' \
	"$hsm_rate" "$(echo "100 * $http_rate / $hsm_rate" | bc -l)"
printf '   openssl ts -reply loop: %.1f/s (x%d: %.1f/s) -> HTTP / loop = %.1fx (%.1fx)\n' \
	"$loop_rate" "$ncpu" "$ploop_rate" "$(echo "$http_rate / $loop_rate" | bc -l)" \
	"$(echo "$http_rate / $ploop_rate" | bc -l)"
if [ "$hrc" -ne 0 ] || [ "$((after - before))" -ne "$granted" ]; then
	echo "FAIL: refusals during the run or tokens without a row" >&2
	exit 1
fi
echo "   every granted token has its row in tsa_tokens"
