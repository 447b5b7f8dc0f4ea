#!/usr/bin/env bash
# bench/pades/run.sh: PAdES B-B signing time of the whole `sceau sign
# pades` process on PDFs of 100 KB, 10 MB and 100 MB, beside
#   - the floor: reading, hashing and writing the same bytes
#     (`sha256sum FILE; cat FILE > COPY`), and
#   - poppler's `pdfsig -add-signature` (NSS software key; RSA-2048 for
#     both, as pdfsig 22.12 cannot sign with an EC key: "unable update
#     signature"),
# printing the ratios and the peak memory (max RSS) of each.
# Aim (issue): sceau <= 1.5x the floor at 100 MB, peak memory < 2x the file.
#
# Warm page cache, median of RUNS runs (default 5), in a throw-away
# PostgreSQL + SoftHSM2 under /tmp with the demonstration hierarchy
# (`sceau init --demo`). Not part of scripts/test.
#   RUNS=5 SIZES="100000 10000000 100000000" bench/pades/run.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${SCEAU_BUILD:-$root/build}
RUNS=${RUNS:-5}
SIZES=${SIZES:-"100000 10000000 100000000"}
# shellcheck source=../../scripts/lib/env.sh
. "$root/scripts/lib/env.sh"
SC="$BUILD/bin/sceau"
[ -x "$SC" ] || { echo "build first: $SC" >&2; exit 1; }
"$SC" init --help >/dev/null 2>&1 || { echo "sceau init is not built" >&2; exit 77; }
tmp=$(mktemp -d /tmp/sceau-bench-pades.XXXXXX)
chmod 0711 "$tmp"
cleanup() {
	sc_pg_stop "$tmp/env" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
sc_env_init "$tmp/env" >/dev/null || exit 1
sc_pg_start "$tmp/env" >/dev/null || exit 1
sc_write_conf "$tmp/env" 0
export SCEAU_CONFIG="$tmp/env/sceau.conf" SOFTHSM2_CONF="$tmp/env/softhsm2.conf"
sed -i "s/^max_document = .*/max_document = 1073741824/" "$SCEAU_CONFIG"
grep -q '^max_document' "$SCEAU_CONFIG" ||
	sed -i "s/^\[server\]/[server]\nmax_document = 1073741824/" "$SCEAU_CONFIG"
"$SC" db migrate >/dev/null || exit 1
"$SC" init --demo >/dev/null 2>&1 || { echo "init --demo failed" >&2; exit 1; }
"$SC" key generate --alias bench --type rsa-2048 >/dev/null || exit 1
echo '{"givenName":"Banc","surname":"Essai","commonName":"Banc d essai"}' >"$tmp/s.json"
"$SC" cert issue --profile person --key bench --subject "$tmp/s.json" --out "$tmp/bench.pem" >/dev/null || exit 1
# pdfsig's key: RSA-2048 in a throw-away NSS database
N="$tmp/nss"
mkdir "$N"
openssl req -x509 -newkey rsa:2048 -sha256 -days 2 -nodes \
	-keyout "$N/k.pem" -out "$N/c.pem" -subj "/CN=bench" >/dev/null 2>&1
openssl pkcs12 -export -inkey "$N/k.pem" -in "$N/c.pem" -name b -passout pass:x -out "$N/b.p12"
certutil -N -d "sql:$N" --empty-password && pk12util -i "$N/b.p12" -d "sql:$N" -W x >/dev/null

# measure CMD...: prints "seconds maxrss_kb" (median over RUNS)
measure() {
	local i
	for i in $(seq 1 "$RUNS"); do
		/usr/bin/time -f "%e %M" -o "$tmp/t" bash -c "$1" >/dev/null 2>&1
		tail -1 "$tmp/t"
	done | sort -n | awk -v n="$RUNS" '{t[NR]=$1; m[NR]=$2} END {print t[int((n+1)/2)], m[int((n+1)/2)]}'
}
printf '%-10s %9s %9s %9s %7s %7s %10s %10s %10s\n' size floor_s sceau_s pdfsig_s x_floor x_pdfsig floor_MB sceau_MB pdfsig_MB
for sz in $SIZES; do
	f="$tmp/in-$sz.pdf"
	python3 "$root/bench/pades/mkpdf.py" "$f" "$sz"
	cat "$f" >/dev/null # warm
	read -r tf mf < <(measure "sha256sum '$f'; cat '$f' > '$tmp/copy.pdf'")
	read -r ts ms < <(measure "'$SC' sign pades '$f' '$tmp/out.pdf' --key bench")
	read -r tp mp < <(measure "pdfsig -nssdir 'sql:$N' -add-signature -nick b '$f' '$tmp/ps.pdf'")
	pdfsig "$tmp/out.pdf" 2>/dev/null | grep -q "Signature is Valid." || echo "WARNING: sceau output not valid at $sz" >&2
	pdfsig "$tmp/ps.pdf" 2>/dev/null | grep -q "Signature is Valid." || echo "WARNING: pdfsig output not valid at $sz" >&2
	awk -v s="$sz" -v tf="$tf" -v ts="$ts" -v tp="$tp" -v mf="$mf" -v ms="$ms" -v mp="$mp" 'BEGIN {
		printf "%-10s %9.3f %9.3f %9.3f %7s %7s %10.1f %10.1f %10.1f\n", s, tf, ts, tp,
		    (tf > 0 ? sprintf("%.2f", ts / tf) : "n/a"), (tp > 0 ? sprintf("%.2f", ts / tp) : "n/a"),
		    mf / 1024, ms / 1024, mp / 1024
		printf "           sceau peak memory / file size: %.2f\n", ms * 1024 / s }'
	rm -f "$f" "$tmp/copy.pdf" "$tmp/out.pdf" "$tmp/ps.pdf"
done
