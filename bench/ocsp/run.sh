#!/usr/bin/env bash
# OCSP responses per second over HTTP: sceaud beside `openssl ocsp -port`
# answering for the same CA, on loopback, with the same load client
# (bench/ocsp/ocspload.c: keep-alive HTTP/1.1, SHA-1 CertIDs, no nonce,
# SERIALS distinct serials, 10% of them revoked). Prints both rates and
# the ratio. Not part of scripts/test.
#
# usage: bench/ocsp/run.sh [BUILD_DIR]   (default: build)
# env:   DURATION seconds per run (10), CONNS connections (8),
#        SERIALS distinct serials (1000)
#
# Everything lives in a temporary folder (its own PostgreSQL cluster and
# SoftHSM2 token) removed at the end; it runs in a private network
# namespace with loopback only (unshare --net, as root); each run is
# bounded by DURATION, the whole script by a few minutes.
#
# Fairness: both sign with ECDSA P-256. sceaud's CA and responder keys
# are in SoftHSM2 (PKCS#11) and it reads PostgreSQL for every request;
# `openssl ocsp` signs with a key in a file and reads a text index.
# sceaud re-signs a cached answer only when the certificate's row changed
# or it is an hour old (docs/pki.md); openssl signs every answer.
set -euo pipefail
# `openssl ocsp -port` binds every interface: run the whole benchmark in a
# private network namespace that has only a loopback interface.
if [ -z "${SCEAU_BENCH_NETNS:-}" ]; then
	command -v unshare >/dev/null && [ "$(id -u)" = 0 ] ||
		{ echo "needs root and unshare (private network namespace)" >&2; exit 1; }
	exec env SCEAU_BENCH_NETNS=1 unshare --net -- bash -c 'ip link set lo up && exec bash "$0" "$@"' "$0" "$@"
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
DURATION=${DURATION:-10}
CONNS=${CONNS:-8}
NSERIALS=${SERIALS:-1000}
ENGINE=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so
# shellcheck source=../../scripts/lib/env.sh
. "$ROOT/scripts/lib/env.sh"
[ -x "$BUILD/bin/sceaud" ] || { echo "build first: $BUILD/bin/sceaud" >&2; exit 1; }
[ -f "$ENGINE" ] || { echo "needs libengine-pkcs11-openssl" >&2; exit 1; }

W=$(mktemp -d /tmp/sceau-bench-ocsp.XXXXXX)
chmod 711 "$W"
SPID= OPID=
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && { wait "$SPID" 2>/dev/null || true; }
	[ -n "$OPID" ] && kill "$OPID" 2>/dev/null && { wait "$OPID" 2>/dev/null || true; }
	sc_pg_stop "$W/env" || true
	[ "${KEEP:-0}" = 1 ] && echo "kept $W" >&2 || rm -rf "$W"
}
trap cleanup EXIT
cd "$W"

cc -O2 -o ocspload "$ROOT/bench/ocsp/ocspload.c" -lcrypto -lpthread
sc_env_init "$W/env" >/dev/null
sc_pg_start "$W/env"
sc_write_conf "$W/env" 0
# Per-request access logs off for both sides: openssl logs nothing.
sed -i 's/^level = info/level = notice/' "$W/env/sceau.conf"
export SCEAU_CONFIG=$W/env/sceau.conf SOFTHSM2_CONF=$W/env/softhsm2.conf
SC=$BUILD/bin/sceau
"$SC" db migrate >/dev/null
PIN=$(cat "$W/env/hsm.pin")

cat >p11.cnf <<EOF
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
[req]
distinguished_name = dn
[dn]
[v_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v_ocsp]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
hsmkey() { echo "pkcs11:token=sceau;object=$1;type=private;pin-value=$PIN"; }
eng() { OPENSSL_CONF=$W/p11.cnf openssl "$@" -engine pkcs11 2>>"$W/openssl.log" >/dev/null; }
for a in b-root b-ocsp; do "$SC" key generate --alias $a --type ec-p256 >/dev/null; done
eng req -new -x509 -keyform engine -key "$(hsmkey b-root)" -subj "/C=ML/O=sceau bench/CN=bench root" \
	-days 3650 -set_serial 0x4001020304050607 -extensions v_ca -out root.pem
# GET /ocsp/{base64} needs base64 without '/' until the route matcher takes
# "{request*}" (docs/pki.md): pick an issuing key whose CertID hashes
# give none, so that the GET run is not empty.
for try in $(seq 30); do
	A_ISS=b-iss-$try
	"$SC" key generate --alias $A_ISS --type ec-p256 >/dev/null
	eng req -new -keyform engine -key "$(hsmkey $A_ISS)" -subj "/C=ML/O=sceau bench/CN=bench issuing $try" -out iss.csr
	eng x509 -req -in iss.csr -CA root.pem -CAkeyform engine -CAkey "$(hsmkey b-root)" \
		-set_serial 0x4001020304050608 -days 1825 -extfile p11.cnf -extensions v_ca -out issuing.pem
	openssl ocsp -issuer issuing.pem -serial 0x01 -no_nonce -reqout r.der >/dev/null 2>&1
	case "$(base64 -w0 r.der | cut -c1-80)" in */*) ;; *) break ;; esac
done
eng req -new -keyform engine -key "$(hsmkey b-ocsp)" -subj "/C=ML/O=sceau bench/CN=bench OCSP" -out ocsp.csr
eng x509 -req -in ocsp.csr -CA issuing.pem -CAkeyform engine -CAkey "$(hsmkey $A_ISS)" \
	-set_serial 0x4001020304050609 -days 365 -extfile p11.cnf -extensions v_ocsp -out ocsp-hsm.pem
# openssl's responder: same CA, same profile, its key in a file.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ocsp-file.key 2>/dev/null
openssl req -new -key ocsp-file.key -subj "/C=ML/O=sceau bench/CN=bench OCSP openssl" -config p11.cnf \
	-out ocsp2.csr 2>/dev/null
eng x509 -req -in ocsp2.csr -CA issuing.pem -CAkeyform engine -CAkey "$(hsmkey $A_ISS)" \
	-set_serial 0x400102030405060a -days 365 -extfile p11.cnf -extensions v_ocsp -out ocsp-file.pem

# The same certificates in both: PostgreSQL rows and an openssl index.
hexder() { openssl x509 -in "$1" -outform DER | od -An -tx1 -v | tr -d ' \n'; }
python3 - "$NSERIALS" <<'EOF'
import os, sys, datetime
n = int(sys.argv[1])
exp = (datetime.datetime.utcnow() + datetime.timedelta(days=365)).strftime("%y%m%d%H%M%SZ")
rev = (datetime.datetime.utcnow() - datetime.timedelta(days=1)).strftime("%y%m%d%H%M%SZ")
with open("serials.txt", "w") as s, open("index.txt", "w") as ix, open("rows.sql", "w") as q:
    q.write("INSERT INTO certificates (serial, ca_name, profile, status, not_before, not_after, cert_der, issued_at, revoked_at, revocation_reason) VALUES\n")
    rows = []
    for i in range(n):
        b = bytearray(os.urandom(16)); b[0] = (b[0] & 0x7f) | 0x40
        h = b.hex()
        revoked = i % 10 == 0
        s.write(h + "\n")
        ix.write("%s\t%s\t%s\t%s\tunknown\t/CN=bench %d\n" % ("R" if revoked else "V", exp, (rev + ",keyCompromise") if revoked else "", h.upper(), i))
        rows.append("('%s', 'b-issuing', 'bench', 'issued', now() - interval '1 day', now() + interval '1 year', '\\x30', now(), %s, %s)" % (h, "now() - interval '1 day'" if revoked else "NULL", "1" if revoked else "NULL"))
    q.write(",\n".join(rows) + ";\n")
EOF
PSQL() { "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$W/env/pgsock" -U postgres -d sceau "$@"; }
PSQL -c "INSERT INTO ca (name, kind, parent, key_alias, subject, cert_der, name_hash, key_hash, not_after) VALUES
	('b-root', 'root', NULL, 'b-root', 'bench root', decode('$(hexder root.pem)', 'hex'), '\x00', '\x00', now() + interval '10 years'),
	('b-issuing', 'issuing', 'b-root', '$A_ISS', 'bench issuing', decode('$(hexder issuing.pem)', 'hex'), '\x00', '\x00', now() + interval '5 years')"
PSQL -f rows.sql
OS=$(openssl x509 -in ocsp-hsm.pem -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
PSQL -c "INSERT INTO certificates (serial, ca_name, profile, status, not_before, not_after, cert_der, issued_at) VALUES
	('$OS', 'b-issuing', 'ocsp', 'issued', now(), now() + interval '1 year', decode('$(hexder ocsp-hsm.pem)', 'hex'), now());
	INSERT INTO service_certs (kind, ca_name, key_alias, serial, cert_der, not_after) VALUES
	('ocsp', 'b-issuing', 'b-ocsp', '$OS', decode('$(hexder ocsp-hsm.pem)', 'hex'), now() + interval '1 year')"
echo "unique_subject = no" >index.txt.attr
cat issuing.pem root.pem >chain.pem

"$BUILD/bin/sceaud" --config "$SCEAU_CONFIG" --port-file "$W/port" >sceaud.out 2>&1 &
SPID=$!
for _ in $(seq 100); do [ -s "$W/port" ] && curl -fsS -o /dev/null "http://127.0.0.1:$(cat "$W/port")/healthz" && break; sleep 0.1; done
SPORT=$(cat "$W/port")
OPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
openssl ocsp -index index.txt -port "$OPORT" -rsigner ocsp-file.pem -rkey ocsp-file.key \
	-CA issuing.pem -ignore_err -nmin 720 >openssl-ocsp.log 2>&1 &
OPID=$!
# Both answer the same: one revoked serial, checked with openssl (which
# also waits for openssl's responder to listen; a bare TCP probe would
# wedge its single-threaded accept loop).
R1=$(sed -n 1p serials.txt)
for p in "$SPORT" "$OPORT"; do
	for _ in $(seq 50); do
		timeout 5 openssl ocsp -url "http://127.0.0.1:$p/ocsp" -issuer issuing.pem -serial "0x$R1" \
			-CAfile chain.pem -no_nonce >check-$p.txt 2>&1 && break
		sleep 0.2
	done
	grep -q "revoked" check-$p.txt || { echo "port $p: not revoked" >&2; exit 1; }
done

load() { ./ocspload -p "$1" -i issuing.pem -s serials.txt -c "$CONNS" -d "$2" -m "$3" -n "$NSERIALS"; }
load "$SPORT" 3 post >/dev/null # warm: every answer signed once
read -r s_post s_ok s_bad s_conn < <(load "$SPORT" "$DURATION" post)
read -r s_get g_ok g_bad g_conn < <(load "$SPORT" "$DURATION" get)
read -r o_post o_ok o_bad o_conn < <(load "$OPORT" "$DURATION" post)
echo "OCSP over HTTP, $CONNS connections, $DURATION s each, $NSERIALS serials, $(nproc) CPUs"
printf '  sceaud POST      %8s responses/s  (ok %s, failed %s, connections %s)\n' "$s_post" "$s_ok" "$s_bad" "$s_conn"
printf '  sceaud GET       %8s responses/s  (ok %s, failed %s, connections %s; RFC 5019 GET, base64 without "/")\n' "$s_get" "$g_ok" "$g_bad" "$g_conn"
printf '  openssl ocsp     %8s responses/s  (ok %s, failed %s, connections %s)\n' "$o_post" "$o_ok" "$o_bad" "$o_conn"
python3 -c "import sys; o=float(sys.argv[2]); print('  ratio sceaud POST / openssl: %.1fx' % (float(sys.argv[1]) / o if o else float('inf')))" "$s_post" "$o_post"
