-- Pedimentos in force: those that no rectificación (R1) supersedes.
-- The superseded originals stay in `pedimentos` for the audit trail
-- (Ley Aduanera art. 89; seed 004 L686). Chains resolve naturally: only the last
-- rectificación of a chain is not named by another one.
SELECT p.*
FROM pedimentos p
LEFT JOIN (
    SELECT DISTINCT rectifica_id FROM pedimentos WHERE rectifica_id IS NOT NULL
) r ON r.rectifica_id = p.pedimento_id
WHERE r.rectifica_id IS NULL
