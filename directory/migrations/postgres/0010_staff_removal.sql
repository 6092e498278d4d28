-- Removal of staff by import, and deactivation that stays (issue #14).

-- Which roles an import granted. A teacher the LAS no longer lists loses these at once; a role an
-- administrator granted by hand (IB, RT, ...) follows the school's choice and stays.
ALTER TABLE staff_roles ADD COLUMN granted_by_import BOOLEAN NOT NULL DEFAULT FALSE;
-- Before this column an import granted only 'leerkracht', to staff it listed under a LAS key, and
-- wrote no audit entry for it; a hand grant always did. A leerkracht role of LAS-listed staff
-- without a hand grant in the audit log therefore came from an import.
UPDATE staff_roles SET granted_by_import = TRUE
WHERE role = 'leerkracht'
  AND EXISTS (SELECT 1 FROM staff_memberships m
              WHERE m.staff_id = staff_roles.staff_id AND m.school_id = staff_roles.school_id
                AND m.las_key IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM audit_log a
                  WHERE a.action = 'staff.role.grant' AND a.subject = staff_roles.staff_id
                    AND a.school_id = staff_roles.school_id AND a.details LIKE '%"leerkracht"%');

-- A deactivated account differs from one that was never activated: no activation link and no
-- "wachtwoord vergeten" brings it back, only an administrator's explicit re-invite, which clears
-- this. Status stays 'inactive' for both, so every check of status = 'active' still holds.
ALTER TABLE staff ADD COLUMN deactivated_at BIGINT;
-- Inactive accounts that once had a password, or whose status an operator set, were deactivated.
UPDATE staff SET deactivated_at = updated_at
WHERE status = 'inactive'
  AND (password_hash IS NOT NULL
       OR EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'staff.status' AND a.subject = staff.id));
-- Their outstanding links stop working, as a deactivation from now on does.
UPDATE staff_tokens SET used_at = CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)
WHERE used_at IS NULL AND staff_id IN (SELECT id FROM staff WHERE deactivated_at IS NOT NULL);
