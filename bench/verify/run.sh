#!/usr/bin/env bash
# bench/verify/run.sh: offline validation time and peak memory of
# `sceau verify --offline --trust root.pem --format json` on a 10 MB PDF
# signed PAdES B-LTA and a 1 MB XML document signed XAdES B-LTA
# (enveloped), both made by sceau in this run, beside on the same files
#   - poppler's `pdfsig` (NSS database trusting the demo root, as
#     tests/e2e/pades_sign.sh does; once as is, which may ask sceaud's
#     OCSP responder over the network, and once with -no-ocsp, offline
#     like sceau),
#   - `xmlsec1 --verify` (XMLDSig core and the chain to the root, as
#     tests/e2e/xades_sign.sh does; no XAdES, time-stamp or revocation
#     checks), and
#   - the floor: `sha256sum FILE` (read and hash the bytes once).
# One process per validation, warm page cache; median and mean wall
# time of RUNS runs (default 10), CPU time, peak memory (max RSS, from
# /usr/bin/time %M), the ratios, and each tool's verdict. sceau's
# verdict is reported, never enforced: the bench does not fail on a time
# or on an indication other than TOTAL-PASSED, it says so.
#
# A throw-away PostgreSQL + SoftHSM2 under /tmp with the demonstration
# hierarchy (`sceau init --demo`) and sceaud on a fixed loopback port
# (its TSA and OCSP responder make the B-LTA signatures). Not part of
# scripts/test.
#   SCEAU_BUILD=build-rel RUNS=10 PDF_SIZE=10000000 XML_SIZE=1048576 bench/verify/run.sh
#   bench/verify/run.sh [BUILD_DIR]    (as bench/ocsp; default build/, a
#   relative BUILD_DIR or SCEAU_BUILD is taken from the repository root)
#   KEY=ec-p256|rsa-2048 (default ec-p256); KEEP=1 keeps the folder.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-${SCEAU_BUILD:-$root/build}}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
RUNS=${RUNS:-10}
PDF_SIZE=${PDF_SIZE:-10000000}
XML_SIZE=${XML_SIZE:-1048576}
KEY=${KEY:-ec-p256}
# shellcheck source=../../scripts/lib/env.sh
. "$root/scripts/lib/env.sh"
# shellcheck source=../lib.sh
. "$root/bench/lib.sh"
SC="$BUILD/bin/sceau"
if [ ! -x "$SC" ] || [ ! -x "$BUILD/bin/sceaud" ]; then
	echo "build first: $SC, $BUILD/bin/sceaud" >&2
	exit 1
fi
"$SC" verify --help >/dev/null 2>&1 || { echo "sceau verify is not built" >&2; exit 77; }
for t in pdfsig certutil xmlsec1 sha256sum python3 curl; do
	command -v "$t" >/dev/null || { echo "$t is missing" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing: apt-get install -y time" >&2; exit 1; }
tmp=$(mktemp -d /tmp/sceau-bench-verify.XXXXXX)
chmod 0711 "$tmp"
SPID=
cleanup() {
	[ -n "$SPID" ] && kill -TERM "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	sc_pg_stop "$tmp/env" >/dev/null 2>&1
	if [ -n "${KEEP:-}" ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
sc_env_init "$tmp/env" >/dev/null || exit 1
sc_pg_start "$tmp/env" >/dev/null || exit 1
sc_write_conf "$tmp/env" 0
export SCEAU_CONFIG="$tmp/env/sceau.conf" SOFTHSM2_CONF="$tmp/env/softhsm2.conf"
# A fixed port before `init --demo`, so that the certificates' OCSP and
# CRL URLs and the CLI's TSA reach this sceaud (tests/e2e/pades_sign.sh).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i -e "s|^port = .*|port = $PORT|" -e "s|^public_url = .*|public_url = http://127.0.0.1:$PORT|" "$SCEAU_CONFIG"
"$SC" db migrate >/dev/null || exit 1
"$SC" init --demo >"$tmp/init.out" 2>&1 || { cat "$tmp/init.out" >&2; echo "init --demo failed" >&2; exit 1; }
bench_start_sceaud "$BUILD" "$tmp"
"$SC" key generate --alias bench --type "$KEY" >/dev/null || exit 1
echo '{"givenName":"Banc","surname":"Essai","commonName":"Banc d essai"}' >"$tmp/s.json"
"$SC" cert issue --profile person --key bench --subject "$tmp/s.json" --out "$tmp/bench.pem" >/dev/null || exit 1
# trust: the demo root; the intermediates for xmlsec1
"$SC" ca cert root >"$tmp/root.pem" || exit 1
: >"$tmp/chain.pem"
for ca in $("$SC" ca list | awk '{print $1}'); do
	[ "$ca" = root ] || "$SC" ca cert "$ca" >>"$tmp/chain.pem"
done
mkdir "$tmp/nss" && certutil -N -d "sql:$tmp/nss" --empty-password &&
	certutil -A -d "sql:$tmp/nss" -n root -t CT,C,C -i "$tmp/root.pem" || exit 1

# the documents, signed B-LTA by sceau
python3 "$root/bench/pades/mkpdf.py" "$tmp/in.pdf" "$PDF_SIZE" || exit 1
python3 "$root/bench/verify/mkxml.py" "$tmp/in.xml" "$XML_SIZE" || exit 1
"$SC" sign pades "$tmp/in.pdf" "$tmp/blta.pdf" --key bench --level B-LTA >"$tmp/sign-pdf.out" 2>&1 ||
	{ cat "$tmp/sign-pdf.out" >&2; echo "sceau sign pades --level B-LTA failed" >&2; exit 1; }
"$SC" sign xades "$tmp/in.xml" "$tmp/blta.xml" --key bench --level B-LTA >"$tmp/sign-xml.out" 2>&1 ||
	{ cat "$tmp/sign-xml.out" >&2; echo "sceau sign xades --level B-LTA failed" >&2; exit 1; }
rm -f "$tmp/in.pdf" "$tmp/in.xml"

M() { python3 "$root/bench/verify/measure.py" "$RUNS" "$@"; }
res="$tmp/results.txt"
: >"$res"
# row FILE TOOL OUT CMD...: one warm-up run, then RUNS measured runs
row() {
	local file=$1 tool=$2 out=$3 line
	shift 3
	"$@" >/dev/null 2>&1 </dev/null
	line=$(M "$out" -- "$@") || { echo "measure failed: $*" >&2; exit 1; }
	echo "$file $tool $line $out" >>"$res"
}
cd "$tmp" || exit 1
for f in blta.pdf blta.xml; do
	cat "$f" >/dev/null
	row "$f" sha256sum "$tmp/o-$f-sha" sha256sum "$f"
	row "$f" sceau "$tmp/o-$f-sceau" "$SC" verify --offline --trust root.pem --format json "$f"
done
row blta.pdf pdfsig "$tmp/o-pdfsig" pdfsig -nssdir "sql:$tmp/nss" blta.pdf
row blta.pdf pdfsig-no-ocsp "$tmp/o-pdfsig-no" pdfsig -nssdir "sql:$tmp/nss" -no-ocsp blta.pdf
row blta.xml xmlsec1 "$tmp/o-xmlsec1" xmlsec1 --verify --enabled-key-data x509 \
	--enabled-reference-uris empty,same-doc --trusted-pem root.pem --untrusted-pem chain.pem \
	--id-attr:Id http://uri.etsi.org/01903/v1.3.2#:SignedProperties blta.xml

echo "== machine: $(nproc) CPU, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); key $KEY in SoftHSM2; RUNS=$RUNS"
echo "== sceau from $BUILD; files signed B-LTA by sceau in this run"
python3 - "$res" "$tmp" <<'EOF'
import json, os, re, sys
res, tmp = sys.argv[1], sys.argv[2]
R = {}
for ln in open(res):
    f, tool, med, mean, mn, mx, usr, sy, rss, rc, out = ln.split()
    R[(f, tool)] = dict(med=float(med), mean=float(mean), min=float(mn), max=float(mx),
                        cpu=float(usr) + float(sy), rss=int(rss), rc=int(rc), out=out)

def verdict(f, tool, r):
    txt = open(r['out'], errors='replace').read()
    err = open(r['out'] + '.err', errors='replace').read()
    if tool == 'sha256sum':
        return 'digest' if r['rc'] == 0 else 'rc=%d' % r['rc']
    if tool == 'sceau':
        try:
            j = json.loads(txt)
        except ValueError:
            return 'rc=%d, no JSON: %s' % (r['rc'], err.strip()[:80])
        sigs = j.get('signatures') or []
        def ts(t):
            return '%s:%s/%s' % (t.get('type'), 'valid' if t.get('valid') else 'NOT-valid', t.get('imprint'))
        per = '; '.join('%s %s%s, revocation %s, ts [%s]' % (
            s.get('level'), s.get('indication'), '/' + s['subindication'] if s.get('subindication') else '',
            (s.get('revocation') or {}).get('status'), ' '.join(ts(t) for t in s.get('timestamps') or []))
            for s in sigs)
        dts = ' '.join(ts(t) for t in j.get('document_timestamps') or [])
        sub = j.get('subindication')
        return '%s%s (rc=%d) | %d sig: %s%s' % (j.get('indication'), '/' + sub if sub else '', r['rc'],
                                              len(sigs), per, ' | doc ts [%s]' % dts if dts else '')
    if tool.startswith('pdfsig'):
        blocks = re.split(r'\nSignature #\d+:\n', txt)[1:]
        valid = sum('Signature is Valid.' in b for b in blocks)
        trusted = sum('Certificate is Trusted.' in b for b in blocks)
        cert = sorted(set(m for b in blocks for m in re.findall(r'Certificate Validation: (.*)', b)))
        return '%d sig: %d "Signature is Valid.", %d "Certificate is Trusted." [%s] (rc=%d)' % (
            len(blocks), valid, trusted, '; '.join(cert), r['rc'])
    if tool == 'xmlsec1':
        st = 'OK' if r['rc'] == 0 and re.search(r'^OK', err, re.M) else 'FAIL'
        return '%s (rc=%d)' % (st, r['rc'])
    return 'rc=%d' % r['rc']

print('%-9s %-15s %10s %10s %10s %10s %9s  %s' % ('file', 'tool', 'median_ms', 'mean_ms', 'min_ms', 'cpu_ms',
                                                 'peak_MiB', 'verdict'))
for f in ('blta.pdf', 'blta.xml'):
    size = os.path.getsize(os.path.join(tmp, f))
    print('%s: %.2f MB' % (f, size / 1e6))
    for tool in ('sha256sum', 'sceau', 'pdfsig', 'pdfsig-no-ocsp', 'xmlsec1'):
        r = R.get((f, tool))
        if not r:
            continue
        print('%-9s %-15s %10.1f %10.1f %10.1f %10.1f %9.1f  %s' % (
            f, tool, r['med'] * 1e3, r['mean'] * 1e3, r['min'] * 1e3, r['cpu'] * 1e3, r['rss'] / 1024,
            verdict(f, tool, r)))

print('== ratios (sceau / other; > 1: sceau slower or larger)')
print('%-9s %-25s %8s %8s %8s %8s' % ('file', 'ratio', 'median', 'mean', 'cpu', 'peak_mem'))
def ratio(f, other):
    a, b = R[(f, 'sceau')], R.get((f, other))
    if not b:
        return
    q = lambda x, y: '%.2f' % (x / y) if y > 0 else 'n/a'
    print('%-9s %-25s %8s %8s %8s %8s' % (f, 'sceau/' + other, q(a['med'], b['med']), q(a['mean'], b['mean']),
                                        q(a['cpu'], b['cpu']), q(a['rss'], b['rss'])))
for f, others in (('blta.pdf', ('pdfsig', 'pdfsig-no-ocsp', 'sha256sum')), ('blta.xml', ('xmlsec1', 'sha256sum'))):
    for o in others:
        ratio(f, o)
for f in ('blta.pdf', 'blta.xml'):
    size = os.path.getsize(os.path.join(tmp, f))
    print('%-9s sceau peak memory / file size: %.2f' % (f, R[(f, 'sceau')]['rss'] * 1024 / size))

print('== sceau verdicts (not enforced)')
for f in ('blta.pdf', 'blta.xml'):
    r = R[(f, 'sceau')]
    try:
        j = json.loads(open(r['out']).read())
    except ValueError:
        j = {}
    if j.get('indication') == 'TOTAL-PASSED':
        print('%s: TOTAL-PASSED' % f)
    else:
        print('%s: *** NOT TOTAL-PASSED: %s ***' % (f, verdict(f, 'sceau', r)))
        if not j:
            print('   ' + open(r['out'] + '.err', errors='replace').read().strip()[:400])
    for s in j.get('signatures') or []:
        if s.get('indication') != 'TOTAL-PASSED':
            print('   signature %s: %s %s %s' % (s.get('id'), s.get('indication'), s.get('subindication'),
                                               s.get('reasons')))
        for t in s.get('timestamps') or []:
            if not t.get('valid') or t.get('imprint') != 'match':
                print('   note: signature %s, %s time-stamp: valid=%s imprint=%s' % (
                    s.get('id'), t.get('type'), t.get('valid'), t.get('imprint')))
    for t in j.get('document_timestamps') or []:
        if not t.get('valid') or t.get('imprint') != 'match':
            print('   note: document time-stamp: valid=%s imprint=%s' % (t.get('valid'), t.get('imprint')))
EOF
exit 0
