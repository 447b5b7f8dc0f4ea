# shellcheck shell=bash
# Shared by scripts/up, scripts/test and tests/: a private PostgreSQL
# cluster and a SoftHSM2 token in one folder. Source it, then call
# sc_env_init DIR and sc_pg_start DIR. Nothing here reads or writes
# anything outside DIR.

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}

# Runs a command as the unprivileged owner of the cluster: PostgreSQL
# refuses to run as root.
sc_as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# sc_env_init DIR: creates (once) the cluster, the token, the PIN file,
# db.url and softhsm2.conf in DIR. Idempotent.
sc_env_init() {
	local dir=$1
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	chmod 0711 "$dir"
	mkdir -p "$dir/log" "$dir/tokens"
	chmod 0700 "$dir/tokens"
	if [ ! -f "$dir/hsm.pin" ]; then
		(umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/hsm.pin")
	fi
	if [ ! -f "$dir/hsm.sopin" ]; then
		(umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$dir/hsm.sopin")
	fi
	cat >"$dir/softhsm2.conf" <<CONF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
	export SOFTHSM2_CONF="$dir/softhsm2.conf"
	if ! softhsm2-util --show-slots 2>/dev/null | grep -q 'Label:.*sceau '; then
		softhsm2-util --init-token --free --label sceau \
			--pin "$(cat "$dir/hsm.pin")" --so-pin "$(cat "$dir/hsm.sopin")" >/dev/null
	fi
	if [ ! -f "$dir/pg/PG_VERSION" ]; then
		mkdir -p "$dir/pg" "$dir/pgsock"
		[ "$(id -u)" = 0 ] && chown postgres: "$dir/pg" "$dir/pgsock" "$dir/log"
		chmod 0700 "$dir/pg" "$dir/pgsock"
		sc_as_pg "$PGBIN/initdb" -D "$dir/pg" -U postgres --auth=trust \
			--encoding=UTF8 --locale=C.UTF-8 >"$dir/log/initdb.log" 2>&1 ||
			{ cat "$dir/log/initdb.log" >&2; return 1; }
		cat >>"$dir/pg/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir/pgsock'
unix_socket_permissions = 0700
max_connections = 200
fsync = on
synchronous_commit = on
logging_collector = off
CONF
	fi
	echo "host=$dir/pgsock port=5432 dbname=sceau user=postgres" >"$dir/db.url"
	chmod 0600 "$dir/db.url"
}

# sc_pg_start DIR: starts the cluster if it is down and creates the
# database once. Waits with pg_ctl -w, never with sleep.
sc_pg_start() {
	local dir=$1
	if ! sc_as_pg "$PGBIN/pg_ctl" -D "$dir/pg" status >/dev/null 2>&1; then
		sc_as_pg "$PGBIN/pg_ctl" -D "$dir/pg" -w -t 60 \
			-l "$dir/log/postgresql.log" start >/dev/null || {
			tail -20 "$dir/log/postgresql.log" >&2
			return 1
		}
	fi
	if ! "$PGBIN/psql" -h "$dir/pgsock" -U postgres -d postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname='sceau'" | grep -q 1; then
		"$PGBIN/createdb" -h "$dir/pgsock" -U postgres sceau
	fi
}

# sc_pg_stop DIR: fast shutdown, if running.
sc_pg_stop() {
	local dir=$1
	[ -f "$dir/pg/PG_VERSION" ] || return 0
	if sc_as_pg "$PGBIN/pg_ctl" -D "$dir/pg" status >/dev/null 2>&1; then
		sc_as_pg "$PGBIN/pg_ctl" -D "$dir/pg" -w -t 60 -m fast stop >/dev/null
	fi
}

# sc_write_conf DIR PORT: the sceau.conf of an environment in DIR.
sc_write_conf() {
	local dir=$1 port=$2 root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	cat >"$dir/sceau.conf" <<CONF
# sceau configuration. Every key is described in README.md; unknown keys
# and out-of-range values stop sceaud and sceau at start.

[server]
# Address and port sceaud listens on (port 0: any free port).
listen = 127.0.0.1
port = $port
# Worker threads serving requests.
threads = 8
# Largest JSON request body, in bytes (413 past it).
max_body = 1048576
# Largest document (PDF, XML) accepted for signing or validation, bytes.
max_document = 104857600
# Base URL that certificates, pages and problem types point at.
public_url = http://127.0.0.1:$port

[database]
# libpq connection string, read from this file (kept out of this one).
url_file = $dir/db.url
# Connections in the pool.
pool = 8
# Folder of NNN_name.sql migrations.
migrations = $root/db/migrations

[hsm]
# PKCS#11 module, token label, and where the user PIN comes from
# (pin_file, else the environment variable named by pin_env).
module = $SOFTHSM_MODULE
token = sceau
pin_file = $dir/hsm.pin
# Concurrent signing sessions.
sessions = 8

[log]
# err, warning, notice, info or debug. One line per event, UTC.
level = info
file = $dir/log/sceaud.log

[tsa]
# TSA policy OID of the time-stamp tokens (policies/tsa-policy.md).
policy_oid = 2.16.466.1.1.3.1
# Declared accuracy of genTime, in milliseconds (EN 319 421: at most 1 s).
accuracy_ms = 1000
# 1: refuse to time-stamp while the clock is not synchronised (production).
# 0 here: a development machine or a test runner need not run NTP.
clock_check = 0
# adjtimex (the kernel's NTP status) or file:PATH ("synced"/"unsynced").
clock_source = adjtimex

[ca]
# Folder of the certificate profiles (policies/profiles/README.md).
profiles = $root/policies/profiles
# OID arc of the certificate policies: Mali's country arc 2.16.466,
# to be confirmed with the national registration authority.
policy_arc = 2.16.466.1.1
# The service's organizationIdentifier (ETSI EN 319 412-1), e.g.
# NTRML-...; empty: only \`sceau init --demo\` can create a hierarchy.
organization_identifier =

[signer]
# An outside TSA for B-T and above (RFC 3161 over http://), and the PEM
# file of the anchors its tokens must chain to (sceau's roots count too);
# empty: sceau's own TSA unit, in-process.
tsa_url =
tsa_trust =
CONF
}
