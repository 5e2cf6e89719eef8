-- TEMP-EXPIRED: quantity of a temporary-import partida still open after its plazo.
-- Amounts at risk (MXN), on the open share of the partida's customs value:
--   amount = valor_aduana * open / imported                       (rounded to cents)
--   igi    = amount * igi_tasa / 100          (tasa declared in 556/CSV, percent; 0 if none)
--   ieps   = amount * ieps_tasa / 100
--   iva    = (amount + igi + ieps) * iva_tasa / 100   (iva_tasa declared, else the default
--            rate of src/catalogs/tasas_contribucion.csv in force on the import's date, 16 %
--            from 2010-01-01, named in the citation; no rate in force: iva NULL and the
--            message says so;
--            IVA base per Ley del IVA art. 27; DTA, recargos, actualización and fines
--            are not included: they depend on dates and payment forms outside the pedimento)
WITH x AS (
    SELECT b.*, ROUND(b.valor_aduana * b.open_qty / b.imported, 2) AS v,
           b.fecha_operacion AS rate_fecha
    FROM ledger_balances b
    WHERE b.estado = 'vencido'
),
iva_v AS (
    SELECT DISTINCT z.pedimento_id, z.partida, t.tasa AS iva_default,
           '[' || t.version || '] ' || t.instrumento AS iva_cita
    FROM x z
    CROSS JOIN tasas_contribucion t
    WHERE t.contribucion = 'IVA' AND t.valid_from <= z.rate_fecha
      AND (t.valid_to IS NULL OR z.rate_fecha <= t.valid_to)
),
y AS (
    SELECT x.*, ROUND(v * COALESCE(igi_tasa, 0) / 100, 2) AS igi_a,
           ROUND(v * COALESCE(ieps_tasa, 0) / 100, 2) AS ieps_a,
           iv.iva_default, iv.iva_cita
    FROM x
    LEFT JOIN iva_v iv ON iv.pedimento_id = x.pedimento_id AND iv.partida = x.partida
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
       ROUND((v + igi_a + ieps_a) * COALESCE(iva_tasa, iva_default) / 100, 2) AS iva,
       ieps_a AS ieps,
       'Temporary import ' || clave || ' partida ' || CAST(partida AS VARCHAR) || ' (fraccion ' || fraccion
           || '): ' || CAST(open_qty AS VARCHAR) || ' of ' || CAST(imported AS VARCHAR) || ' (UMT ' || umt || ')'
           || ' still open; plazo ended ' || CAST(vence AS VARCHAR)
           || CASE WHEN iva_tasa IS NULL AND iva_default IS NULL
                   THEN '; IVA unknown: the pedimento declares no IVA rate and no default rate is in force on '
                        || CAST(rate_fecha AS VARCHAR)
                   ELSE '' END AS message,
       'Importación temporal ' || clave || ' partida ' || CAST(partida AS VARCHAR) || ' (fracción ' || fraccion
           || '): ' || CAST(open_qty AS VARCHAR) || ' de ' || CAST(imported AS VARCHAR) || ' (UMT ' || umt || ')'
           || ' con saldo pendiente; el plazo venció el ' || CAST(vence AS VARCHAR)
           || CASE WHEN iva_tasa IS NULL AND iva_default IS NULL
                   THEN '; IVA desconocido: el pedimento no declara tasa de IVA y no hay tasa general vigente el '
                        || CAST(rate_fecha AS VARCHAR)
                   ELSE '' END AS mensaje,
       cita || CASE WHEN iva_tasa IS NULL AND iva_default IS NOT NULL
                     THEN '; IVA at the default rate of ' || iva_cita ELSE '' END AS citation,
       'partidas:' || pedimento_id || '#' || CAST(partida AS VARCHAR) AS evidence
FROM y
