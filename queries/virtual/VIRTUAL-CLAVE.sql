-- VIRTUAL-CLAVE: a pair whose claves or tipos de operación no case covers: both sides
-- filed with the same tipo_operacion (a transfer needs an export side, tipo 2, and an
-- import side, tipo 1: Manual de Operación Aduanera 2007, apartado A.7, norma 123ª), or a clave combination that
-- is not in src/catalogs/virtual_cases.csv (e.g. V1 paired with V5; V2 -> V1 is allowed:
-- Anexo 22 (RGCE 2017), Apéndice 2, clave V2).
-- The citation names the version of the virtual-operation rules in force on the receiver's
-- date (src/catalogs/virtual_versions.csv).
WITH vv AS (
    SELECT p.sender_id, p.receiver_id, v.version
    FROM virtual_pairs p
    CROSS JOIN virtual_versions v
    WHERE v.valid_from <= p.receiver_fecha
      AND (v.valid_to IS NULL OR p.receiver_fecha <= v.valid_to)
)
SELECT 'VIRTUAL-CLAVE' AS check_code,
       'medium' AS severity,
       p.sender_rfc AS rfc,
       p.sender_id AS pedimento_id,
       CAST(NULL AS INTEGER) AS partida,
       p.receiver_id AS related_pedimento_id,
       CAST(NULL AS VARCHAR) AS fraccion,
       CAST(NULL AS DATE) AS period_start,
       ${as_of} AS as_of,
       p.sender_quantity AS quantity,
       p.sender_value AS amount,
       CAST(NULL AS DECIMAL(18, 2)) AS igi,
       CAST(NULL AS DECIMAL(18, 2)) AS iva,
       CAST(NULL AS DECIMAL(18, 2)) AS ieps,
       'Virtual pair ' || p.sender_id || ' (' || p.sender_clave || ', tipo '
           || CAST(p.sender_tipo AS VARCHAR) || ', ' || p.sender_rfc || ') -> ' || p.receiver_id
           || ' (' || p.receiver_clave || ', tipo ' || CAST(p.receiver_tipo AS VARCHAR) || ', '
           || p.receiver_rfc || '): '
           || CASE WHEN p.sender_tipo = p.receiver_tipo
                   THEN 'both sides filed tipo_operacion ' || CAST(p.sender_tipo AS VARCHAR)
                        || '; one side must be the export (2) and the other the import (1)'
                   WHEN p.sender_tipo = 1
                   THEN 'the sides are swapped: the sender filed an import (1) and the receiver an export (2)'
                   ELSE 'clave ' || p.sender_clave || ' paired with clave ' || p.receiver_clave
                        || ' is not covered by any virtual-operation case' END AS message,
       'Par virtual ' || p.sender_id || ' (' || p.sender_clave || ', tipo '
           || CAST(p.sender_tipo AS VARCHAR) || ', ' || p.sender_rfc || ') -> ' || p.receiver_id
           || ' (' || p.receiver_clave || ', tipo ' || CAST(p.receiver_tipo AS VARCHAR) || ', '
           || p.receiver_rfc || '): '
           || CASE WHEN p.sender_tipo = p.receiver_tipo
                   THEN 'ambos lados declararon tipo_operacion ' || CAST(p.sender_tipo AS VARCHAR)
                        || '; un lado debe ser la exportación (2) y el otro la importación (1)'
                   WHEN p.sender_tipo = 1
                   THEN 'los lados están invertidos: quien envía declaró una importación (1) y quien recibe una exportación (2)'
                   ELSE 'la clave ' || p.sender_clave || ' con la clave ' || p.receiver_clave
                        || ' no corresponde a ningún supuesto de operación virtual' END AS mensaje,
       COALESCE('[' || vv.version || '] ', '[no version of the virtual-operation rules in force on ' || CAST(p.receiver_fecha AS VARCHAR) || '] ')
           || 'Anexo 22 (RGCE 2017), Apéndice 2, claves V1-V9; Manual de Operación Aduanera 2007, apartado A.7, norma 123ª' AS citation,
       'pedimentos:' || p.sender_id || ';pedimentos:' || p.receiver_id AS evidence
FROM virtual_pairs p
LEFT JOIN vv ON vv.sender_id = p.sender_id AND vv.receiver_id = p.receiver_id
WHERE p.clave_ok = 0
