-- DESCARGO-NO-BOM: a discharge (return, change of regime, virtual transfer) of a fracción
-- the company never imported temporarily and for which no bill of materials (profile
-- bom.csv) is in force on the discharge's date: the ledger cannot know which insumos it
-- discharges (ledger_movements kind 'N'; it is kept out of the ledger, so it is not a
-- DESCARGO-EXCESS). Typical causes: a finished product whose BOM is missing or expired, or
-- a wrong fracción. Amount = the discharge partida's declared value.
WITH bom_any AS (
    SELECT rfc, producto_fraccion, COUNT(*) AS n FROM bom GROUP BY rfc, producto_fraccion
)
SELECT 'DESCARGO-NO-BOM' AS check_code,
       'high' AS severity,
       m.rfc,
       m.pedimento_id,
       m.partida,
       CAST(NULL AS VARCHAR) AS related_pedimento_id,
       m.fraccion,
       CAST(NULL AS DATE) AS period_start,
       ${as_of} AS as_of,
       m.cantidad AS quantity,
       m.valor_aduana AS amount,
       CAST(NULL AS DECIMAL(18, 2)) AS igi,
       CAST(NULL AS DECIMAL(18, 2)) AS iva,
       CAST(NULL AS DECIMAL(18, 2)) AS ieps,
       'Discharge ' || m.clave || ' partida ' || CAST(m.partida AS VARCHAR) || ' (fraccion '
           || m.fraccion || '): ' || CAST(m.cantidad AS VARCHAR) || ' (UMT ' || m.umt || ')'
           || ' of a fraccion never imported temporarily, with no bill of materials in force on '
           || CAST(m.fecha_operacion AS VARCHAR)
           || CASE WHEN b.n IS NULL THEN ' (bom.csv has no line for this product)'
                   ELSE ' (bom.csv lines for this product are not valid on that date)' END
           || '; the insumos it discharges are unknown' AS message,
       'Descargo ' || m.clave || ' partida ' || CAST(m.partida AS VARCHAR) || ' (fracción '
           || m.fraccion || '): ' || CAST(m.cantidad AS VARCHAR) || ' (UMT ' || m.umt || ')'
           || ' de una fracción nunca importada temporalmente y sin lista de materiales vigente al '
           || CAST(m.fecha_operacion AS VARCHAR)
           || CASE WHEN b.n IS NULL THEN ' (bom.csv no tiene renglones para este producto)'
                   ELSE ' (los renglones de bom.csv para este producto no están vigentes en esa fecha)' END
           || '; se desconocen los insumos que descarga' AS mensaje,
       'Ley Aduanera arts. 108 and 109; discharge of insumos incorporated in the returned goods per the automated inventory control (Anexo 24; Manual de operación aduanera 2007, IMMEX, norma vigesimatercera)' AS citation,
       'partidas:' || m.pedimento_id || '#' || CAST(m.partida AS VARCHAR) AS evidence
FROM ledger_movements m
LEFT JOIN bom_any b ON b.rfc = m.rfc AND b.producto_fraccion = m.fraccion
WHERE m.kind = 'N' AND m.fecha_operacion <= ${as_of}
