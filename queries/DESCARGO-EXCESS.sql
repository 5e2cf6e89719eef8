-- DESCARGO-EXCESS: the part of a discharge (return, change of regime, virtual transfer)
-- that found no open temporary import of the same good (rfc, fraccion, umt) on or before
-- its date: missing imports, a wrong fracción, or goods discharged twice.
-- Amount = the discharge partida's declared value (valor comercial of an export or return,
-- ledger_movements.valor_aduana on 'D' rows) prorated to the excess quantity. An insumo
-- discharged through a bill of materials (ledger_movements) names the product and the BOM
-- line; its amount is the product partida's value prorated to the insumo's excess. A
-- destruction record (profile desperdicios.csv) declares no value: its amount is empty.
SELECT 'DESCARGO-EXCESS' AS check_code,
       'high' AS severity,
       a.rfc,
       a.discharge_id AS pedimento_id,
       a.discharge_partida AS partida,
       CAST(NULL AS VARCHAR) AS related_pedimento_id,
       a.fraccion,
       CAST(NULL AS DATE) AS period_start,
       ${as_of} AS as_of,
       a.cantidad AS quantity,
       ROUND(m.valor_aduana * a.cantidad / m.cantidad, 2) AS amount,
       CAST(NULL AS DECIMAL(18, 2)) AS igi,
       CAST(NULL AS DECIMAL(18, 2)) AS iva,
       CAST(NULL AS DECIMAL(18, 2)) AS ieps,
       CASE WHEN a.discharge_clave = 'DESTRUCCION'
            THEN 'Destruction record ' || a.discharge_id || ' (desperdicios.csv)'
            ELSE 'Discharge ' || a.discharge_clave || ' partida ' || CAST(a.discharge_partida AS VARCHAR)
            END
           || ' (fraccion ' || a.fraccion || '): ' || CAST(a.cantidad AS VARCHAR) || ' of '
           || CAST(m.cantidad AS VARCHAR) || ' (UMT ' || a.umt || ')'
           || ' discharge no open temporary import'
           || CASE WHEN a.producto_fraccion IS NULL THEN ''
                   ELSE ' (insumo of product fraccion ' || a.producto_fraccion || ', '
                        || CAST(a.producto_cantidad AS VARCHAR) || ' units x BOM line consumo '
                        || CAST(a.bom_consumo AS VARCHAR) || ', merma '
                        || CAST(a.bom_merma_pct AS VARCHAR) || '%, desperdicio '
                        || CAST(a.bom_desperdicio_pct AS VARCHAR) || '%, valid from '
                        || CAST(a.bom_valid_from AS VARCHAR) || ')' END AS message,
       'Descargo ' || a.discharge_clave || ' partida ' || CAST(a.discharge_partida AS VARCHAR)
           || ' (fracción ' || a.fraccion || '): ' || CAST(a.cantidad AS VARCHAR) || ' de '
           || CAST(m.cantidad AS VARCHAR) || ' (UMT ' || a.umt || ')'
           || ' sin importación temporal con saldo que descargar'
           || CASE WHEN a.producto_fraccion IS NULL THEN ''
                   ELSE ' (insumo del producto fracción ' || a.producto_fraccion || ', '
                        || CAST(a.producto_cantidad AS VARCHAR) || ' unidades x consumo unitario '
                        || CAST(a.bom_consumo AS VARCHAR) || ' de la lista de materiales, merma '
                        || CAST(a.bom_merma_pct AS VARCHAR) || '%, desperdicio '
                        || CAST(a.bom_desperdicio_pct AS VARCHAR) || '%, vigente desde '
                        || CAST(a.bom_valid_from AS VARCHAR) || ')' END AS mensaje,
       'Ley Aduanera art. 108; discharge per the automated inventory control (Manual de operación aduanera 2007, IMMEX, norma vigesimatercera)' AS citation,
       CASE WHEN a.discharge_clave = 'DESTRUCCION'
            THEN 'desperdicios.csv:' || a.discharge_id || ' fraccion ' || a.fraccion
            ELSE 'partidas:' || a.discharge_id || '#' || CAST(a.discharge_partida AS VARCHAR)
            END AS evidence
FROM ledger_allocations a
JOIN (SELECT * FROM ledger_movements WHERE kind = 'D') m
  ON m.pedimento_id = a.discharge_id AND m.partida = a.discharge_partida
 AND m.fraccion = a.fraccion
WHERE a.method = 'EXCESS' AND a.discharge_fecha <= ${as_of}
