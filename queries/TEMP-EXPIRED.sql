-- TEMP-EXPIRED: quantity of a temporary-import partida still open after its plazo.
-- Amounts at risk (MXN), on the open share of the partida's customs value:
--   amount = valor_aduana * open / imported                       (rounded to cents)
--   igi    = amount * igi_tasa / 100          (tasa declared in 556/CSV, percent; 0 if none)
--   ieps   = amount * ieps_tasa / 100
--   iva    = (amount + igi + ieps) * iva_tasa / 100   (iva_tasa declared, else 16%;
--            IVA base per Ley del IVA art. 27; DTA, recargos, actualización and fines
--            are not included: they depend on dates and payment forms outside the pedimento)
WITH x AS (
    SELECT b.*, ROUND(b.valor_aduana * b.open_qty / b.imported, 2) AS v
    FROM ledger_balances b
    WHERE b.estado = 'vencido'
),
y AS (
    SELECT x.*, ROUND(v * COALESCE(igi_tasa, 0) / 100, 2) AS igi_a,
           ROUND(v * COALESCE(ieps_tasa, 0) / 100, 2) AS ieps_a
    FROM x
)
SELECT 'TEMP-EXPIRED' AS check_code,
       'high' AS severity,
       rfc,
       pedimento_id,
       partida,
       CAST(NULL AS VARCHAR) AS related_pedimento_id,
       fraccion,
       fecha_operacion AS period_start,
       ${as_of} AS as_of,
       open_qty AS quantity,
       v AS amount,
       igi_a AS igi,
       ROUND((v + igi_a + ieps_a) * COALESCE(iva_tasa, 16) / 100, 2) AS iva,
       ieps_a AS ieps,
       'Temporary import ' || clave || ' partida ' || CAST(partida AS VARCHAR) || ' (fraccion ' || fraccion
           || '): ' || CAST(open_qty AS VARCHAR) || ' of ' || CAST(imported AS VARCHAR) || ' (UMT ' || umt || ')'
           || ' still open; plazo ended ' || CAST(vence AS VARCHAR) AS message,
       'Importación temporal ' || clave || ' partida ' || CAST(partida AS VARCHAR) || ' (fracción ' || fraccion
           || '): ' || CAST(open_qty AS VARCHAR) || ' de ' || CAST(imported AS VARCHAR) || ' (UMT ' || umt || ')'
           || ' con saldo pendiente; el plazo venció el ' || CAST(vence AS VARCHAR) AS mensaje,
       cita AS citation,
       'partidas:' || pedimento_id || '#' || CAST(partida AS VARCHAR) AS evidence
FROM y
