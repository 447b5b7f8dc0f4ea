#!/usr/bin/env bash
# Integration: the audit log's hash chain. Tampering with any row —
# update, delete or insert in the middle — makes `sceau audit verify`
# fail and name the row; an untouched chain passes. The tampering is done
# with psql as a database superuser would (the table's append-only
# trigger disabled first), not through sceau.
# shellcheck source=../lib/e2e.sh
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup audit

populate() {
	for i in 1 2 3 4 5 6; do
		e2e_token auditor "aud-$i" >/dev/null || return 1
	done
}
verify() {
	"$E2E_BIN/sceau" audit verify >"$T/out" 2>&1
	RC=$?
}
reset_db() {
	e2e_psql -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" >/dev/null
	"$E2E_BIN/sceau" db migrate >/dev/null
	populate
}

populate
verify
ok '[ $RC -eq 0 ] && grep -q "6 lignes" "$T/out"' "untouched chain passes (6 rows)"
SCEAU_LANG=en "$E2E_BIN/sceau" audit verify >"$T/out"
ok 'grep -q "^OK: 6 audit rows" "$T/out"' "English report"

ok '! e2e_psql -c "UPDATE audit_log SET details = details WHERE id = 3" 2>/dev/null' "the append-only trigger refuses UPDATE"
ok '! e2e_psql -c "DELETE FROM audit_log WHERE id = 3" 2>/dev/null' "the append-only trigger refuses DELETE"

untrig() { e2e_psql -c "ALTER TABLE audit_log DISABLE TRIGGER USER" >/dev/null; }

untrig
e2e_psql -c "UPDATE audit_log SET details = '{\"role\":\"ca_admin\"}' WHERE id = 3" >/dev/null
verify
ok '[ $RC -eq 1 ] && grep -q "ligne d.audit 3" "$T/out"' "UPDATE of row 3 detected, row 3 named"

reset_db; untrig
e2e_psql -c "UPDATE audit_log SET actor = 'mallory' WHERE id = 4" >/dev/null
verify
ok '[ $RC -eq 1 ] && grep -q "ligne d.audit 4" "$T/out"' "changed actor of row 4 detected"

reset_db; untrig
e2e_psql -c "DELETE FROM audit_log WHERE id = 3" >/dev/null
verify
ok '[ $RC -eq 1 ] && grep -q "ligne d.audit 4" "$T/out"' "DELETE of row 3 detected at row 4"

reset_db; untrig
# Renumber to make room, then insert a forged row that links to row 2.
e2e_psql -c "UPDATE audit_log SET id = id + 100 WHERE id >= 3;
  UPDATE audit_log SET id = id - 99 WHERE id >= 103;
  INSERT INTO audit_log (id, at, actor, role, action, object, details, prev_hash, hash)
  SELECT 3, now(), 'mallory', 'ca_admin', 'token.create', 'backdoor', '{}', hash, sha256('forged'::bytea)
  FROM audit_log WHERE id = 2" >/dev/null
verify
ok '[ $RC -eq 1 ] && grep -q "ligne d.audit 3" "$T/out"' "row inserted in the middle detected, row 3 named"

reset_db; untrig
# A cleverer forgery: recompute nothing but swap two rows' contents.
e2e_psql -c "UPDATE audit_log a SET object = b.object FROM audit_log b WHERE a.id = 5 AND b.id = 2" >/dev/null
verify
ok '[ $RC -eq 1 ] && grep -q "ligne d.audit 5" "$T/out"' "copied field detected at row 5"

reset_db
verify
ok '[ $RC -eq 0 ]' "fresh chain passes again"
e2e_done
