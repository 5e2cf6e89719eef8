-- TEMP-PLAZO-UNKNOWN: open temporary imports whose plazo the tool cannot determine: activo
-- fijo (clave AF, E2, E4, or identificador AF) not linked to any IMMEX program of the company
-- profile (no program with the declared number, none in force on its date); or any temporary
-- import dated where no version of its plazo is in force (src/catalogs/plazos.csv valid_from /
-- valid_to: meses and por_programa are then NULL). Reported, never skipped.
SELECT 'TEMP-PLAZO-UNKNOWN' AS check_code,
       'medium' AS severity,
       rfc,
       pedimento_id,
       partida,
       CAST(NULL AS VARCHAR) AS related_pedimento_id,
       fraccion,
       fecha_operacion AS period_start,
       ${as_of} AS as_of,
       open_qty AS quantity,
       ROUND(valor_aduana * open_qty / imported, 2) AS amount,
       CAST(NULL AS DECIMAL(18, 2)) AS igi,
       CAST(NULL AS DECIMAL(18, 2)) AS iva,
       CAST(NULL AS DECIMAL(18, 2)) AS ieps,
       'Temporary import ' || clave || ' (' || tipo_bien || ') partida ' || CAST(partida AS VARCHAR)
           || ': ' || CAST(open_qty AS VARCHAR) || ' (UMT ' || umt || ')'
           || ' open and the plazo is unknown'
           || CASE WHEN meses IS NULL AND por_programa IS NULL
                   THEN ' (no version of the plazo rule in force on its date ' || CAST(fecha_operacion AS VARCHAR) || ')'
                   ELSE ' (add the IMMEX program dates to the company profile)' END AS message,
       'Importación temporal ' || clave || ' (' || REPLACE(tipo_bien, '_', ' ') || ') partida ' || CAST(partida AS VARCHAR)
           || ': ' || CAST(open_qty AS VARCHAR) || ' (UMT ' || umt || ')'
           || ' con saldo pendiente y plazo desconocido'
           || CASE WHEN meses IS NULL AND por_programa IS NULL
                   THEN ' (ninguna versión de la regla de plazos vigente en su fecha ' || CAST(fecha_operacion AS VARCHAR) || ')'
                   ELSE ' (agregue las fechas del programa IMMEX al perfil de la empresa)' END AS mensaje,
       cita AS citation,
       'partidas:' || pedimento_id || '#' || CAST(partida AS VARCHAR) AS evidence
FROM ledger_balances
WHERE estado = 'plazo desconocido'
