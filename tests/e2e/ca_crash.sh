#!/usr/bin/env bash
# Integration: killing sceaud with SIGKILL in the middle of a burst of
# issuance leaves no certificate that a client received without an
# 'issued' row holding the identical bytes, and no duplicate serial
# (DESIGN.md principle 3, Boulder's issuance cycle). Rows left
# 'reserved' or 'linted' are allowed: they are the visible trace.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup ca_crash
S="$E2E_BIN/sceau"
N=${SCEAU_CRASH_N:-50}

"$S" init --demo >/dev/null || { echo "init failed" >&2; exit 1; }
e2e_start_server
OFF1=$(e2e_token ra_officer "sub-$RANDOM")
OFF2=$(e2e_token ra_officer "app-$RANDOM")

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	-subj "/CN=x" -out "$T/sub.csr" 2>/dev/null
python3 -c 'import json,sys; print(json.dumps({"profile":"person","csr":open(sys.argv[1]).read(),"subject":{"givenName":"Fatoumata","surname":"Coulibaly","commonName":"Fatoumata Coulibaly"}}))' \
	"$T/sub.csr" >"$T/req.json"
ids=()
for i in $(seq 1 "$N"); do
	http POST /api/v1/requests -H "Authorization: Bearer $OFF1" --data-binary @"$T/req.json"
	[ "$STATUS" = 201 ] && ids+=("$(jfield id)")
done
ok '[ ${#ids[@]} = "$N" ]' "$N requests submitted"

# The burst: one approval each (issues), all at once, each response kept.
mkdir -p "$T/resp"
for id in "${ids[@]}"; do
	curl -sS -o "$T/resp/$id.json" -w '%{http_code}' --max-time 60 -X POST \
		-H "Authorization: Bearer $OFF2" "$URL/api/v1/requests/$id/approve" \
		>"$T/resp/$id.code" 2>/dev/null &
done
# SIGKILL once a few have been answered, while the rest are in flight.
deadline=$((SECONDS + 60))
while [ "$(grep -l '"issued"' "$T"/resp/*.json 2>/dev/null | wc -l)" -lt 3 ] &&
	[ $SECONDS -lt $deadline ]; do
	sleep 0.01
done
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null
SPID=
wait # the clients

received=0
bad=0
serials=()
for f in "$T"/resp/*.json; do
	id=$(basename "$f" .json)
	[ "$(cat "$T/resp/$id.code" 2>/dev/null)" = 200 ] || continue
	ser=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("serial","") if d.get("status")=="issued" else "")' "$f" 2>/dev/null)
	[ -n "$ser" ] || continue
	received=$((received + 1))
	serials+=("$ser")
	got=$(python3 -c 'import json,sys,base64; p=json.load(open(sys.argv[1]))["pem"]; print(base64.b64decode("".join(l for l in p.splitlines() if "-----" not in l)).hex())' "$f")
	row=$(e2e_psql -c "select encode(cert_der, 'hex') from certificates where serial = '$ser' and status = 'issued'")
	if [ -z "$got" ] || [ "$got" != "$row" ]; then
		echo "certificate $ser (request $id): received but no identical issued row" >&2
		bad=$((bad + 1))
	fi
done
echo "# received $received certificates before the kill; rows: $(e2e_psql -c "select string_agg(status || '=' || n, ' ') from (select status, count(*) n from certificates where profile = 'person' group by status) s")"
ok '[ $received -ge 3 ]' "clients received certificates before the kill"
ok '[ $bad = 0 ]' "every received certificate has an 'issued' row with identical bytes"
ok '[ "$(printf "%s\n" "${serials[@]}" | sort | uniq -d | wc -l)" = 0 ]' "no duplicate serial among received certificates"
ok '[ "$(e2e_psql -c "select count(*) - count(distinct serial) from certificates")" = 0 ]' "no duplicate serial in the database"
ok '[ "$(e2e_psql -c "select count(*) from certificates where status = '"'"'issued'"'"' and (cert_der is null or tbs_der is null)")" = 0 ]' \
	"every issued row has its linted TBS and certificate"
ok '[ "$(e2e_psql -c "select count(*) from requests r where status = '"'"'issued'"'"' and not exists (select 1 from certificates c where c.serial = r.serial and c.status = '"'"'issued'"'"')")" = 0 ]' \
	"every issued request points at an issued certificate"

# The service comes back and goes on issuing.
e2e_start_server
http POST /api/v1/requests -H "Authorization: Bearer $OFF1" --data-binary @"$T/req.json"
id=$(jfield id)
http POST "/api/v1/requests/$id/approve" -H "Authorization: Bearer $OFF2"
ok '[ "$STATUS" = 200 ] && [ "$(jfield status)" = issued ]' "issuance works after the restart"
ok '"$S" audit verify >/dev/null' "audit chain intact after the kill"
e2e_done
