-- TEMP-EXPIRING: open quantity of a temporary import whose plazo ends within
-- ${expiring_days} days of the as-of date (default 60). Amount = open share of valor_aduana.
SELECT 'TEMP-EXPIRING' AS check_code,
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
       'Temporary import ' || clave || ' partida ' || CAST(partida AS VARCHAR) || ' (fraccion ' || fraccion
           || '): ' || CAST(open_qty AS VARCHAR) || ' (UMT ' || umt || ') open; plazo ends '
           || CAST(vence AS VARCHAR) AS message,
       'Importación temporal ' || clave || ' partida ' || CAST(partida AS VARCHAR) || ' (fracción ' || fraccion
           || '): ' || CAST(open_qty AS VARCHAR) || ' (UMT ' || umt || ') con saldo pendiente; el plazo vence el '
           || CAST(vence AS VARCHAR) AS mensaje,
       cita AS citation,
       'partidas:' || pedimento_id || '#' || CAST(partida AS VARCHAR) AS evidence
FROM ledger_balances
WHERE estado = 'por vencer'
