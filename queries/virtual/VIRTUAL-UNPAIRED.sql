-- VIRTUAL-UNPAIRED: a virtual pedimento (claves V1-V9, except the one-pedimento V4) with no
-- counterpart in the dataset, neither by its declared reference nor by the fallback
-- match (src/checks/virtual_pairing.rs builds virtual_sides).
-- Severity: high when the declared counterpart RFC's company IS in the dataset (its
-- pedimento should be there); info when that company is not in the dataset (the other
-- side is outside the audit's scope); medium when no counterpart RFC was declared at all.
-- An import side is reported only once the sender's deadline (the case window) has
-- passed by as_of (column `due`).
-- The citation names the version of the virtual-operation rules in force on the side's date
-- (src/catalogs/virtual_versions.csv); its rule numbering is explained in VIRTUAL-UNPAIRED.md.
WITH vv AS (
    SELECT s.pedimento_id, v.version
    FROM virtual_sides s
    CROSS JOIN virtual_versions v
    WHERE v.valid_from <= s.fecha_operacion
      AND (v.valid_to IS NULL OR s.fecha_operacion <= v.valid_to)
)
SELECT 'VIRTUAL-UNPAIRED' AS check_code,
       CASE WHEN s.declared_rfc IS NULL THEN 'medium'
            WHEN s.counterpart_in_dataset = 1 THEN 'high'
            ELSE 'info' END AS severity,
       s.rfc,
       s.pedimento_id,
       CAST(NULL AS INTEGER) AS partida,
       s.declared_id AS related_pedimento_id,
       s.fraccion,
       CAST(NULL AS DATE) AS period_start,
       ${as_of} AS as_of,
       s.quantity,
       s.valor AS amount,
       CAST(NULL AS DECIMAL(18, 2)) AS igi,
       CAST(NULL AS DECIMAL(18, 2)) AS iva,
       CAST(NULL AS DECIMAL(18, 2)) AS ieps,
       s.clave || ' '
           || CASE WHEN s.tipo_operacion = 2 THEN 'export-side (sender)' ELSE 'import-side (receiver)' END
           || ' pedimento of ' || CAST(s.fecha_operacion AS VARCHAR)
           || ' has no counterpart in the dataset (declared counterpart pedimento '
           || COALESCE(s.declared_ids, 'none') || ', RFC ' || COALESCE(s.declared_rfc, 'none') || '): '
           || CASE WHEN s.declared_rfc IS NULL THEN 'no counterpart RFC declared'
                   WHEN s.counterpart_in_dataset = 1 THEN 'counterpart company IS in the dataset, its pedimento is missing'
                   ELSE 'counterpart company not in the dataset' END AS message,
       'Pedimento ' || s.clave || ' '
           || CASE WHEN s.tipo_operacion = 2 THEN 'del lado exportador (quien envía)' ELSE 'del lado importador (quien recibe)' END
           || ' del ' || CAST(s.fecha_operacion AS VARCHAR)
           || ' sin contraparte en los datos (pedimento de contraparte declarado '
           || COALESCE(s.declared_ids, 'ninguno') || ', RFC ' || COALESCE(s.declared_rfc, 'ninguno') || '): '
           || CASE WHEN s.declared_rfc IS NULL THEN 'no se declaró el RFC de la contraparte'
                   WHEN s.counterpart_in_dataset = 1 THEN 'la empresa contraparte SÍ está en los datos; falta su pedimento'
                   ELSE 'la empresa contraparte no está en los datos' END AS mensaje,
       COALESCE('[' || vv.version || '] ', '[no version of the virtual-operation rules in force on ' || CAST(s.fecha_operacion AS VARCHAR) || '] ')
           || 'Manual de Operación Aduanera 2007, apartado A.7, normas 123ª y 126ª; Anexo 22 (RGCE 2017), Apéndice 2, claves V1-V9' AS citation,
       'pedimentos:' || s.pedimento_id AS evidence
FROM virtual_sides s
LEFT JOIN vv ON vv.pedimento_id = s.pedimento_id
WHERE s.n_partners = 0 AND s.single = 0 AND s.due = 1
