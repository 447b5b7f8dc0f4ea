#!/usr/bin/env bash
# bench/issuance/run.sh: certificates per second over the REST API
# (POST /api/v1/requests as one RA officer, then .../approve as another,
# which issues: profile "person", PostgreSQL and the HSM on every step),
# beside, on the same machine,
#   - the HSM's raw signing rate with the issuing CA's key ("personnes"):
#     the ceiling, every certificate costs one signature;
#   - the library alone (sc_ca_cert_issue, no HTTP) and the software
#     cost of one issuance besides the HSM (throw-away key, lint
#     signature, verification);
#   - `openssl ca` issuing from the same CSRs with the same CA
#     certificate and the same key IN THE HSM (pkcs11 engine), with an
#     equivalent extension profile: one process per certificate in a
#     loop, the loop twice in parallel, and one process for a batch;
# and prints the rates, the ratios sceau/HSM and sceau/openssl-ca and
# the p50/p99 of an issuance. Checks that every answer was 201/200 and
# that the database has exactly one 'issued' row per certificate.
#
# Bounded: each measurement stops after SECS seconds or N certificates,
# whichever comes first; loopback only (sceaud on 127.0.0.1; openssl ca
# does not listen); a throw-away PostgreSQL + SoftHSM2 under /tmp, all
# stopped and removed on exit. Not part of scripts/test.
#   SCEAU_BUILD=build-bench N=2000 SECS=20 CONNS=8 bench/issuance/run.sh
# env: THREADS sceaud workers (config default 8), HSM_THREADS (8),
#      PERF=1 to record a perf profile of sceaud during a second HTTP run,
#      KEEP=1 to keep the folder.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${SCEAU_BUILD:-$root/build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
N=${N:-2000}
SECS=${SECS:-20}
CONNS=${CONNS:-8}
THREADS=${THREADS:-8}
HSM_THREADS=${HSM_THREADS:-8}
WARM=16
ENGINE=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so
# shellcheck source=../../scripts/lib/env.sh
. "$root/scripts/lib/env.sh"
# shellcheck source=../lib.sh
. "$root/bench/lib.sh"

[ -x "$BUILD/bin/sceaud" ] || { echo "build first: $BUILD/bin/sceaud" >&2; exit 1; }
[ -f "$ENGINE" ] || { echo "needs libengine-pkcs11-openssl" >&2; exit 1; }
tmp=$(mktemp -d /tmp/sceau-bench-issuance.XXXXXX)
chmod 0711 "$tmp"
SPID=
cleanup() {
	if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
		kill -TERM "$SPID"
		wait "$SPID" 2>/dev/null
	fi
	sc_pg_stop "$tmp/env" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------ environment
sc_env_init "$tmp/env" >/dev/null || exit 1
sc_pg_start "$tmp/env" || exit 1
sc_write_conf "$tmp/env" 0
export SCEAU_CONFIG="$tmp/env/sceau.conf" SOFTHSM2_CONF="$tmp/env/softhsm2.conf"
sed -i "s/^threads = .*/threads = $THREADS/" "$SCEAU_CONFIG"
S=$BUILD/bin/sceau
PIN=$(cat "$tmp/env/hsm.pin")
psql_() { "$PGBIN/psql" -X -h "$tmp/env/pgsock" -U postgres -d sceau -v ON_ERROR_STOP=1 -qtA "$@"; }
"$S" db migrate >/dev/null || exit 1
"$S" init --demo >"$tmp/init.out" 2>&1 || { cat "$tmp/init.out" >&2; exit 1; }
alias=$("$S" ca list | awk -F'\t' '$1 == "personnes" { print $NF }')
[ -n "$alias" ] || { echo "no issuing CA personnes" >&2; exit 1; }
"$S" ca cert root >"$tmp/root.pem" && "$S" ca cert personnes >"$tmp/ca.pem" || exit 1
TOK_A=$("$S" token create --role ra_officer --name bench-officer-a) || exit 1
TOK_B=$("$S" token create --role ra_officer --name bench-officer-b) || exit 1

# the load client, against this build's libraries
cc -O2 -D_GNU_SOURCE -I"$root/core/include" -I"$root/hsm/include" -I"$root/db/include" \
	-I"$root/ca/include" "$root/bench/issuance/issue_bench.c" "$BUILD/ca/libsceau_ca.a" \
	"$BUILD/db/libsceau_db.a" "$BUILD/hsm/libsceau_hsm.a" "$BUILD/core/libsceau_core.a" \
	$(pkg-config --libs libp11 p11-kit-1 libpq jansson) -lcrypto -lpthread -ldl \
	-o "$tmp/issue_bench" || exit 1
B=$tmp/issue_bench

# the subscribers' CSRs (software P-256 keys, not kept): WARM for the
# warm-up, N for the run, N for the library run, N for the profiled run
"$B" csrs $((WARM + 3 * N)) "$tmp" >/dev/null || exit 1
head -n "$WARM" "$tmp/bodies.jsonl" >"$tmp/warm.jsonl"
sed -n "$((WARM + 1)),$((WARM + N))p" "$tmp/bodies.jsonl" >"$tmp/run.jsonl"
sed -n "$((WARM + N + 1)),$((WARM + 2 * N))p" "$tmp/bodies.jsonl" >"$tmp/lib.jsonl"
sed -n "$((WARM + 2 * N + 1)),\$p" "$tmp/bodies.jsonl" >"$tmp/perf.jsonl"

bench_start_sceaud "$BUILD" "$tmp"
"$B" http 127.0.0.1 "$port" "$TOK_A" "$TOK_B" "$tmp/warm.jsonl" 4 30 "$WARM" >/dev/null || {
	echo "warm-up failed" >&2
	exit 1
}
echo "== machine: $(nproc) CPU, $(uname -r), load $(cut -d" " -f1-3 /proc/loadavg); CA key $alias (ec-p384, SoftHSM2); N=$N, SECS=$SECS"

# ------------------------------------------------------------ 1. REST
echo "== 1. REST: submit (officer A) + approve (officer B) = one issuance, $CONNS keep-alive clients, sceaud $THREADS threads"
issued_rows() { psql_ -c "select count(*) from certificates where profile = 'person' and status = 'issued'"; }
commits() { psql_ -c "select xact_commit from pg_stat_database where datname = 'sceau'"; }
# CPU ticks (utime + stime) of sceaud, of our PostgreSQL cluster (the
# postmaster's children), and of the whole machine (busy, all CPUs)
ticks_pid() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
ticks_pg() {
	local pm
	pm=$(head -1 "$tmp/env/pg/postmaster.pid")
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$pm" '$1 == pm || $4 == pm { t += $14 + $15 } END { print t + 0 }'
}
ticks_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
ticks_all() { awk '/^cpu / { print $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
rows0=$(issued_rows)
x0=$(commits)
c0=("$(ticks_pid "$SPID")" "$(ticks_pg)" "$(ticks_busy)" "$(ticks_all)")
http=$("$B" http 127.0.0.1 "$port" "$TOK_A" "$TOK_B" "$tmp/run.jsonl" "$CONNS" "$SECS" "$N")
hrc=$?
c1=("$(ticks_pid "$SPID")" "$(ticks_pg)" "$(ticks_busy)" "$(ticks_all)")
x1=$(commits)
rows1=$(issued_rows)
echo "   $http"
val() { echo "$1" | sed -n "s/.*\\b$2=\\([0-9.]*\\).*/\\1/p"; }
issued=$(val "$http" issued)
http_rate=$(val "$http" rate)
p50=$(val "$http" p50_ms)
p99=$(val "$http" p99_ms)
badrows=$(psql_ -c "select count(*) from certificates where status in ('reserved', 'linted', 'failed')")
echo "   'issued' rows added: $((rows1 - rows0)) for $issued certificates; reserved/linted/failed rows: $badrows"
# psql's own few statements are in the count; they are negligible
echo "   PostgreSQL commits per issuance: $(echo "scale=1; ($x1 - $x0) / $issued" | bc -l)"
hz=$(getconf CLK_TCK)
busy=$(echo "100 * (${c1[2]} - ${c0[2]}) / (${c1[3]} - ${c0[3]})" | bc -l)
cpu_sc=$(echo "1000 * (${c1[0]} - ${c0[0]}) / $hz / $issued" | bc -l)
cpu_pg=$(echo "1000 * (${c1[1]} - ${c0[1]}) / $hz / $issued" | bc -l)
printf '   CPU: machine %.0f %% busy (of %d CPUs); per issuance: sceaud %.1f ms (SoftHSM2 included), PostgreSQL %.1f ms\n' \
	"$busy" "$(nproc)" "$cpu_sc" "$cpu_pg"
# a sample checked by openssl, an independent decoder
sample_ok=1
for s in $(shuf -n 3 "$tmp/run.jsonl.serials"); do
	{ echo "-----BEGIN CERTIFICATE-----"; psql_ -c "select encode(cert_der, 'base64') from certificates where serial = '$s'"; echo "-----END CERTIFICATE-----"; } >"$tmp/s.pem"
	openssl verify -CAfile "$tmp/root.pem" -untrusted "$tmp/ca.pem" "$tmp/s.pem" >/dev/null 2>&1 || sample_ok=0
done
cp "$tmp/s.pem" "$tmp/sceau-sample.pem"
echo "   3 random certificates verify under root/personnes with openssl: $([ $sample_ok = 1 ] && echo yes || echo NO)"
# CPU use during the run: sceaud, PostgreSQL (its backends) and the HSM
# (SoftHSM2 runs inside sceaud) share this machine's CPUs with the client
if [ "${PERF:-0}" = 1 ] && command -v perf >/dev/null; then
	# sceaud alone (SoftHSM2 runs inside it), and what PostgreSQL's
	# backends wait for, sampled every 0.1 s
	echo "   profiling a second run ($((SECS / 2)) s): perf on sceaud, pg_stat_activity sampled"
	perf record -F 299 --call-graph dwarf,16384 -p "$SPID" -o "$tmp/perf.data" -- sleep "$((SECS / 2))" >/dev/null 2>&1 &
	ppid=$!
	(
		end=$((SECONDS + SECS / 2))
		while [ $SECONDS -lt $end ]; do
			psql_ -c "select coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-') || ':' || state
				from pg_stat_activity where datname = 'sceau' and pid <> pg_backend_pid() and backend_type = 'client backend'"
			sleep 0.1
		done
	) >"$tmp/waits.txt" 2>/dev/null &
	wpid=$!
	"$B" http 127.0.0.1 "$port" "$TOK_A" "$TOK_B" "$tmp/perf.jsonl" "$CONNS" "$((SECS / 2))" "$N" >"$tmp/perf-run.txt"
	wait "$ppid" "$wpid"
	echo "   $(cat "$tmp/perf-run.txt")"
	echo "   PostgreSQL backends (samples: wait event : state):"
	sort "$tmp/waits.txt" | uniq -c | sort -rn | head -8 | sed 's/^/     /'
	echo "   sceaud CPU by library:"
	perf report -i "$tmp/perf.data" --no-children --sort dso --stdio 2>/dev/null |
		grep -E '^ +[0-9]' | head -10 | sed 's/^/     /'
	echo "   sceaud, top self symbols:"
	perf report -i "$tmp/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
		grep -E '^ +[0-9]' | head -12 | sed 's/^/     /'
	echo "   sceaud, inclusive share of the steps (callers included, DWARF unwinding):"
	perf report -i "$tmp/perf.data" --children --sort sym --stdio -g none 2>/dev/null |
		grep -E '\] (h_requests_create|h_requests_approve|sc_ca_request_submit|sc_ca_request_approve|sc_ca_cert_show|ca_issue|ca_throwaway_key|ca_cert_build|ca_lint|X509_sign|X509_verify|X509_REQ_verify|ca_csr_parse|subscriber_key|ca_load_issuer|ca_profile_load|sc_hsm_key_get1|sc_db_run_txn|sc_db_token_lookup|PQexecPrepared|C_Sign|api_reply_json)$' |
		awk '!seen[$NF]++' | head -20 | sed 's/^/     /'
fi

# ------------------------------------------------------------ 2. HSM
echo "== 2. HSM raw signing rate, key $alias (SHA-384 over 1 KiB, as X509_sign), through hsm/"
hsm1=$("$B" hsm "$SCEAU_CONFIG" "$alias" 1 "$((SECS / 2))") || exit 1
echo "   $hsm1"
hsm=$("$B" hsm "$SCEAU_CONFIG" "$alias" "$HSM_THREADS" "$((SECS / 2))") || exit 1
echo "   $hsm"
hsm_rate=$(val "$hsm" rate)
echo "== 2b. the software part of one issuance on this CPU (one thread)"
cpu=$("$B" cpu "$SCEAU_CONFIG" "$alias" 2) || exit 1
echo "   $cpu"

# ------------------------------------------------------------ 3. library
echo "== 3. the library alone: sc_ca_cert_issue (submit + approve, no HTTP), $CONNS threads"
lib=$("$B" lib "$SCEAU_CONFIG" "$tmp/lib.jsonl" "$CONNS" "$SECS" "$N")
echo "   $lib"
lib_rate=$(val "$lib" rate)

kill -TERM "$SPID" && wait "$SPID" 2>/dev/null
SPID=

# ------------------------------------------------------------ 4. openssl ca
# Same CA certificate, same HSM key through libp11's engine, same CSRs,
# the extensions of the "person" profile as sceau writes them. Not in
# openssl's: sceau's pre-issuance lint, its throw-away signature and
# the post-signature verification, and the database.
pub=$(sed -n 's/^public_url = //p' "$SCEAU_CONFIG")
arc=$(sed -n 's/^policy_arc = //p' "$SCEAU_CONFIG")
# The engine from OPENSSL_CONF; -config holds the CA alone (an
# openssl_conf section there would load the engine a second time).
cat >"$tmp/p11.cnf" <<EOF
openssl_conf = oc
[oc]
engines = es
[es]
pkcs11 = p11
[p11]
engine_id = pkcs11
dynamic_path = $ENGINE
MODULE_PATH = $SOFTHSM_MODULE
init = 0
EOF
cat >"$tmp/openssl.cnf" <<EOF
[ca]
default_ca = person
[person]
dir = \$ENV::OCA
database = \$dir/index.txt
new_certs_dir = \$dir/certs
serial = \$dir/serial
certificate = $tmp/ca.pem
default_md = sha384
default_days = 730
policy = pol_person
unique_subject = no
email_in_dn = no
preserve = yes
copy_extensions = none
x509_extensions = ext_person
[pol_person]
countryName = supplied
givenName = supplied
surname = supplied
commonName = supplied
[ext_person]
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
certificatePolicies = @cp
crlDistributionPoints = URI:$pub/pki/crl/personnes.crl
authorityInfoAccess = OCSP;URI:$pub/ocsp,caIssuers;URI:$pub/pki/ca/personnes.crt
[cp]
policyIdentifier = $arc.1.3
CPS.1 = $pub/pki/cps
userNotice.1 = @notice
[notice]
explicitText = "UTF8:Certificat de signature électronique avancée d'une personne physique (non qualifié), loi n° 2016-012 du Mali."
EOF
# RFC 7512 puts pin-value in the query; libp11 0.4.12 reads it there.
KEYURI="pkcs11:token=sceau;object=$alias;type=private?pin-value=$PIN"
oca_dir() { mkdir -p "$1/certs" && : >"$1/index.txt" && echo "unique_subject = no" >"$1/index.txt.attr"; }
# one_ca DIR IN OUT: one `openssl ca` process, one certificate. When two
# processes log in to SoftHSM2's file token at once, one may get
# CKR_GENERAL_ERROR, and libp11 0.4.12 then dies of SIGSEGV: such a
# process is retried (twice at most) and counted in DIR/retries.
one_ca() {
	local t
	for t in 1 2 3; do
		# in a subshell that waits for openssl (two commands: no exec),
		# so that bash's "Segmentation fault" goes to the log
		(OCA=$1 OPENSSL_CONF=$tmp/p11.cnf openssl ca -batch -notext -rand_serial \
			-config "$tmp/openssl.cnf" -engine pkcs11 -keyform engine -keyfile "$KEYURI" \
			-in "$2" -out "$3" >/dev/null
		exit $?) 2>>"$tmp/openssl.log" && return 0
		echo "$2" >>"$1/retries"
	done
	return 1
}
oca_dir "$tmp/oca0"
one_ca "$tmp/oca0" "$tmp/csr/00000.pem" "$tmp/oca0/probe.pem" || {
	echo "openssl ca with the pkcs11 engine failed:" >&2
	tail -20 "$tmp/openssl.log" >&2
	exit 1
}
openssl verify -CAfile "$tmp/root.pem" -untrusted "$tmp/ca.pem" "$tmp/oca0/probe.pem" >/dev/null ||
	{ echo "openssl ca's certificate does not verify" >&2; exit 1; }
exts() { openssl x509 -in "$1" -noout -text | sed -n 's/^ *\(X509v3 [^:]*\|Authority Information Access\|CT [^:]*\|qcStatements\):.*/\1/p' | sort | paste -sd, -; }
e_sc=$(exts "$tmp/sceau-sample.pem")
e_os=$(exts "$tmp/oca0/probe.pem")
echo "== 4. openssl ca, CA key in the HSM through the pkcs11 engine, same CSRs, profile 'person'"
echo "   extensions sceau:   $e_sc"
echo "   extensions openssl: $e_os"
[ "$e_sc" = "$e_os" ] || echo "   (extension sets differ)"
# loop DIR FIRST COUNT: issues csr FIRST.. in one process each, until
# COUNT or SECS; prints how many
loop() {
	local d=$1 i=$2 end=$(($2 + $3)) n=0 stop=$((SECONDS + SECS))
	oca_dir "$d"
	while [ $i -lt $end ] && [ $SECONDS -lt $stop ]; do
		one_ca "$d" "$tmp/csr/$(printf %05d $i).pem" "$d/certs/o$i.pem" || return 1
		i=$((i + 1)) n=$((n + 1))
	done
	echo $n
}
t0=$(date +%s.%N)
n1=$(loop "$tmp/oca1" $WARM "$N") || { tail -5 "$tmp/openssl.log" >&2; exit 1; }
# (a retry here would mean the login failed with no other process)
t1=$(date +%s.%N)
os_rate=$(echo "$n1 / ($t1 - $t0)" | bc -l)
printf '   one loop: %d certificates, %.1f/s (%.1f ms each)\n' "$n1" "$os_rate" "$(echo "1000 / $os_rate" | bc -l)"
half=$((N / 2))
t0=$(date +%s.%N)
loop "$tmp/oca2" $WARM "$half" >"$tmp/l2" &
p2=$!
loop "$tmp/oca3" $((WARM + half)) "$half" >"$tmp/l3" &
p3=$!
wait $p2 $p3 || { tail -5 "$tmp/openssl.log" >&2; exit 1; }
t1=$(date +%s.%N)
n2=$(($(cat "$tmp/l2") + $(cat "$tmp/l3")))
os2_rate=$(echo "$n2 / ($t1 - $t0)" | bc -l)
printf '   two loops in parallel: %d certificates, %.1f/s (%d processes retried after a failed login)\n' \
	"$n2" "$os2_rate" "$(cat "$tmp"/oca[23]/retries 2>/dev/null | wc -l)"
# one process for a batch (-infiles): the engine and the login paid once
nb=$N
[ "$nb" -gt 500 ] && nb=500
oca_dir "$tmp/oca4"
t0=$(date +%s.%N)
OCA=$tmp/oca4 OPENSSL_CONF=$tmp/p11.cnf timeout "$((SECS * 3))" openssl ca -batch -notext -rand_serial \
	-config "$tmp/openssl.cnf" -engine pkcs11 -keyform engine -keyfile "$KEYURI" \
	-outdir "$tmp/oca4/certs" -out /dev/null \
	-infiles $(seq -f "$tmp/csr/%05g.pem" $WARM $((WARM + nb - 1))) 2>>"$tmp/openssl.log" >/dev/null
t1=$(date +%s.%N)
n4=$(wc -l <"$tmp/oca4/index.txt")
os4_rate=$(echo "$n4 / ($t1 - $t0)" | bc -l)
printf '   one process, -infiles batch: %d certificates, %.1f/s\n' "$n4" "$os4_rate"

# ------------------------------------------------------------ result
echo "== result"
printf '   sceau REST: %.1f certificates/s (%d clients), p50 %.1f ms, p99 %.1f ms per issuance (submit + approve)\n' \
	"$http_rate" "$CONNS" "$p50" "$p99"
printf '   CPU per issuance: sceaud %.1f ms + PostgreSQL %.1f ms (machine %.0f %% busy); one HSM signature: %.2f ms\n' \
	"$cpu_sc" "$cpu_pg" "$busy" "$(echo "1000 / $(val "$hsm1" rate)" | bc -l)"
printf '   HSM raw signing (%s threads): %.1f/s   -> sceau / HSM = %.1f %%\n' "$HSM_THREADS" "$hsm_rate" \
	"$(echo "100 * $http_rate / $hsm_rate" | bc -l)"
printf '   library, no HTTP: %.1f/s   -> REST / library = %.1f %%\n' "$lib_rate" \
	"$(echo "100 * $http_rate / $lib_rate" | bc -l)"
printf '   openssl ca: loop %.1f/s, 2 loops %.1f/s, batch %.1f/s -> sceau / openssl ca = %.1fx, %.1fx, %.2fx\n' \
	"$os_rate" "$os2_rate" "$os4_rate" "$(echo "$http_rate / $os_rate" | bc -l)" \
	"$(echo "$http_rate / $os2_rate" | bc -l)" "$(echo "$http_rate / $os4_rate" | bc -l)"
if [ "$hrc" -ne 0 ] || [ "$((rows1 - rows0))" -ne "$issued" ] || [ "$badrows" -ne 0 ] || [ "$sample_ok" != 1 ]; then
	echo "FAIL: refusals during the run, or rows and certificates disagree" >&2
	exit 1
fi
echo "   every answer 201/200; exactly one 'issued' row per certificate"
