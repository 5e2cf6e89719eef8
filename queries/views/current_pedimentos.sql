-- Pedimentos in force: those that no rectificación (R1) supersedes.
-- The superseded originals stay in `pedimentos` for the audit trail
-- (Ley Aduanera art. 89). Chains resolve naturally: only the last
-- rectificación of a chain is not named by another one.
-- A rectificación passes no selección automatizada (Manual de Operación Aduanera 2007): it keeps the
-- fecha_operacion of the pedimento it rectifies when that one is in the dataset (it may
-- have arrived in another Data Stage request or another ingest run).
WITH superseded AS (
    SELECT DISTINCT rectifica_id FROM pedimentos WHERE rectifica_id IS NOT NULL
),
anterior AS (
    SELECT pedimento_id AS anterior_id, fecha_operacion AS anterior_fecha FROM pedimentos
)
SELECT p.pedimento_id, p.aduana_seccion, p.patente, p.numero, p.tipo_operacion, p.clave,
       p.clave_declarada, p.tipo_pedimento, p.rfc, p.nombre, p.immex_programa, p.fecha_pago,
       p.fecha_entrada, p.fecha_seleccion,
       COALESCE(a.anterior_fecha, p.fecha_operacion) AS fecha_operacion,
       p.tipo_cambio, p.valor_dolares, p.valor_aduana, p.valor_comercial, p.rectifica_id,
       p.contraparte_id, p.contraparte_rfc, p.source_file, p.source_line, p.hora_pago,
       p.consolidado
FROM pedimentos p
LEFT JOIN superseded r ON r.rectifica_id = p.pedimento_id
LEFT JOIN anterior a ON a.anterior_id = p.rectifica_id
WHERE r.rectifica_id IS NULL
