#!/usr/bin/env bash
# bench/xades/run.sh: XAdES signing and verification of 10 KB, 1 MB and
# 20 MB XML documents by sceau (B-B enveloped, key in SoftHSM2, every
# signature verified again before release; verification by sceau's
# validator, offline) beside `xmlsec1 --sign` / `xmlsec1 --verify` on the
# same files with a PEM key of the same type (plain XMLDSig enveloped
# signature: no XAdES properties, no re-verification).
#
# Per-process cost (start, HSM login or key load, library set-up, first
# tiny document) is printed apart from the per-document cost:
#   sceau: measured inside one process (xades_bench.c), mean of N runs;
#   xmlsec1: one process per document, so its per-document cost is the
#   wall time on the file minus the wall time on a tiny file.
# Then the ratios sceau / xmlsec1 per size.
#
#   KEY=ec-p256|rsa-2048 N=5 bench/xades/run.sh     (not part of scripts/test)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${SCEAU_BUILD:-$root/build}
KEY=${KEY:-ec-p256}
N=${N:-5}
# shellcheck source=../../scripts/lib/env.sh
. "$root/scripts/lib/env.sh"

for lib in signer verify tsa db hsm core; do
	[ -f "$BUILD/$lib/libsceau_$lib.a" ] || { echo "build first: $BUILD/$lib/libsceau_$lib.a" >&2; exit 1; }
done
command -v xmlsec1 >/dev/null || { echo "xmlsec1 is missing" >&2; exit 1; }
tmp=$(mktemp -d /tmp/sceau-bench-xades.XXXXXX)
chmod 0711 "$tmp"
cleanup() { [ -n "${KEEP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"; }
trap cleanup EXIT
sc_env_init "$tmp/env" >/dev/null || exit 1
sc_write_conf "$tmp/env" 0
export SCEAU_CONFIG="$tmp/env/sceau.conf" SOFTHSM2_CONF="$tmp/env/softhsm2.conf"

cc -O2 -D_GNU_SOURCE -I"$root/core/include" -I"$root/hsm/include" -I"$root/signer/include" \
	-I"$root/verify/include" "$root/bench/xades/xades_bench.c" \
	"$BUILD/signer/libsceau_signer.a" "$BUILD/verify/libsceau_verify.a" "$BUILD/tsa/libsceau_tsa.a" \
	"$BUILD/db/libsceau_db.a" "$BUILD/hsm/libsceau_hsm.a" "$BUILD/core/libsceau_core.a" \
	$(pkg-config --libs xmlsec1-openssl libqpdf libqrencode jansson libp11 p11-kit-1 libpq) \
	-lcrypto -lpthread -ldl -lstdc++ -o "$tmp/xades_bench" || exit 1

# documents: records of an invoice register, ~10 KB, 1 MB, 20 MB
python3 - "$tmp" <<'EOF'
import sys
d = sys.argv[1]
def make(name, size):
    rec = ('<ligne n="{0}"><article>Ciment CPA 42.5 sac de 50 kg</article>'
           '<quantite>{0}</quantite><prix devise="XOF">4500</prix>'
           '<note>Livraison à Bamako, quartier {0} &amp; environs</note></ligne>\n')
    out, n = ['<?xml version="1.0" encoding="UTF-8"?>\n<registre xmlns="urn:example:sceau">\n'], 0
    total = len(out[0])
    while total < size:
        s = rec.format(n); out.append(s); total += len(s.encode()); n += 1
    out.append('</registre>\n')
    open(f'{d}/{name}.xml', 'w').write(''.join(out))
make('tiny', 1)
make('10k', 10 * 1024)
make('1m', 1024 * 1024)
make('20m', 20 * 1024 * 1024)
EOF

# xmlsec1's key, same type, and its enveloped template (exc-c14n, SHA-256)
case $KEY in
ec-p256) openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/k.pem" 2>/dev/null
	SM=http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256 ;;
rsa-2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/k.pem" 2>/dev/null
	SM=http://www.w3.org/2001/04/xmldsig-more#rsa-sha256 ;;
*) echo "KEY: ec-p256 or rsa-2048" >&2; exit 64 ;;
esac
openssl req -x509 -new -key "$tmp/k.pem" -subj "/CN=xmlsec1 bench" -days 2 -out "$tmp/c.pem" 2>/dev/null
TPL="<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"$SM\"/><ds:Reference URI=\"\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"
for f in tiny 10k 1m 20m; do
	sed "s|</registre>|$TPL</registre>|" "$tmp/$f.xml" >"$tmp/$f.tpl.xml"
done

ms() { # ms CMD...: wall milliseconds of one run (fails the bench if CMD fails)
	local a b
	a=$(date +%s%N)
	"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
	b=$(date +%s%N)
	echo $(((b - a) / 1000))
}
mean_us() { # mean_us N CMD...
	local n=$1 t=0
	shift
	for _ in $(seq 1 "$n"); do t=$((t + $(ms "$@"))); done
	echo $((t / n))
}
xsign() { xmlsec1 --sign --privkey-pem "$tmp/k.pem,$tmp/c.pem" --output "$tmp/$1.xs.xml" "$tmp/$1.tpl.xml"; }
xverify() { xmlsec1 --verify --enabled-key-data x509 --trusted-pem "$tmp/c.pem" "$tmp/$1.xs.xml"; }

echo "== machine: $(nproc) CPU, $(uname -r); key $KEY (sceau: SoftHSM2; xmlsec1: PEM); N=$N"
echo "== sceau (one process)"
"$tmp/xades_bench" "$KEY" "$N" "$tmp/10k.xml" "$tmp/1m.xml" "$tmp/20m.xml" >"$tmp/sceau.txt" || exit 1
sed 's/^/   /' "$tmp/sceau.txt"
echo "== xmlsec1 (one process per document)"
xsign tiny
st0=$(mean_us "$N" xsign tiny)
vt0=$(mean_us "$N" xverify tiny)
echo "   process_ms sign $(echo "scale=2; $st0/1000" | bc) verify $(echo "scale=2; $vt0/1000" | bc)"
declare -A XS XV
for f in 10k 1m 20m; do
	xsign "$f"
	s=$(mean_us "$N" xsign "$f")
	v=$(mean_us "$N" xverify "$f")
	XS[$f]=$(((s - st0) > 1 ? s - st0 : 1))
	XV[$f]=$(((v - vt0) > 1 ? v - vt0 : 1))
	echo "   sign $f $(echo "scale=3; ${XS[$f]}/1000" | bc) ms, verify $(echo "scale=3; ${XV[$f]}/1000" | bc) ms (per document)"
done

echo "== ratios sceau / xmlsec1 (per document; > 1: sceau slower; n/a: xmlsec1's share is below the noise of its process start)"
i=0
for f in 10k 1m 20m; do
	i=$((i + 1))
	ss=$(awk -v k=$i '$1=="sign"{n++; if(n==k) print $3}' "$tmp/sceau.txt")
	sv=$(awk -v k=$i '$1=="verify"{n++; if(n==k) print $3}' "$tmp/sceau.txt")
	# below 5% of xmlsec1's process cost, its per-document share is noise
	rs="n/a" rv="n/a"
	[ "${XS[$f]}" -gt $((st0 / 20)) ] && rs=$(echo "scale=2; $ss*1000/${XS[$f]}" | bc)
	[ "${XV[$f]}" -gt $((vt0 / 20)) ] && rv=$(echo "scale=2; $sv*1000/${XV[$f]}" | bc)
	printf '   %-4s sign %6s   verify %6s\n' "$f" "$rs" "$rv"
done
sp=$(awk '$1=="process_ms"{print $2}' "$tmp/sceau.txt")
printf '   per process: sceau %s ms (HSM login + first signature and check) vs xmlsec1 %s ms (sign) + %s ms (verify)\n' \
	"$sp" "$(echo "scale=2; $st0/1000" | bc)" "$(echo "scale=2; $vt0/1000" | bc)"
