-- CERT-RATIO series: per company and per calendar point, the value of the temporary
-- imports of insumos (denominator) and of what was returned, transformed and returned,
-- changed regime or transferred (numerator) in the 12-month window ending at the point
-- (RCGMCE 2013 regla 5.2.13, apartado B, fr. I, inciso d); sensitive sectors: inciso b)).
--   denominator: claves with tipo_bien 'insumo' in src/catalogs/plazos.csv, importación
--                (IN, V1 virtual import received, E1/E3, V5/V7 with IMMEX, legacy A2/H2).
--                Activo fijo is out: not insumos (claves AF/E2/E4..., and partidas carrying
--                the AF identificador on either side).
--   numerator:   claves with counts_in_ratio = 1 in src/catalogs/discharge_claves.csv
--                (RT, H1, J1, J2, F4 import side, V4, and the transferor's V1/V5/V6/V9 export
--                when the filer declared an IMMEX program).
--   value:       ${cert_value}: an expression over p and pa (src/checks/cert.rs ValueBasis).
--                Default: the value each pedimento declares, valor en aduana on imports and
--                valor comercial on exports and returns (Anexo 22, Instructivo de llenado:
--                exports and returns declare valor comercial; Data Stage has ValorAduana = 0
--                on export lines).
--   date:        fecha_operacion (selección automatizada, else payment; Manual de operación aduanera 2007).
-- `cert_calendar` (period_start, period_end) is built in src/checks/cert.rs: polars SQL
-- has no generate_series / DATE_TRUNC to make a dense list of month ends, so the calendar
-- (every month end from the first month with data to ${as_of}, plus ${as_of}) is a small
-- registered table; everything else is here.
-- Rule versions: a clave's tipo_bien is the same in every plazos version; a discharge
-- counts under the discharge_claves version in force on its date.
WITH plazo_claves AS (
    SELECT DISTINCT clave, tipo_bien, requires_immex FROM plazos
),
af_g AS (
    SELECT DISTINCT pedimento_id FROM identificadores WHERE clave = 'AF' AND partida IS NULL
),
af_p AS (
    SELECT DISTINCT pedimento_id, partida FROM identificadores WHERE clave = 'AF' AND partida IS NOT NULL
),
-- Partidas of activo fijo under a clave not exclusive to it (identificador AF, Anexo 22
-- Apéndice 8): not insumos, out of both sides.
ratio_lines AS (
    SELECT p.rfc, p.clave, p.tipo_operacion, p.immex_programa, p.fecha_operacion,
           ${cert_value} AS valor
    FROM current_pedimentos p
    JOIN partidas pa ON pa.pedimento_id = p.pedimento_id
    LEFT JOIN af_g g ON g.pedimento_id = p.pedimento_id
    LEFT JOIN af_p ap ON ap.pedimento_id = pa.pedimento_id AND ap.partida = pa.partida
    WHERE g.pedimento_id IS NULL AND ap.pedimento_id IS NULL AND p.fecha_operacion <= ${as_of}
),
den AS (
    SELECT l.rfc, l.fecha_operacion AS fecha, l.valor
    FROM ratio_lines l
    JOIN plazo_claves pl ON pl.clave = l.clave
    WHERE l.tipo_operacion = 1 AND pl.tipo_bien = 'insumo'
      AND (pl.requires_immex = 0 OR l.immex_programa IS NOT NULL)
),
num AS (
    SELECT l.rfc, l.fecha_operacion AS fecha, l.valor
    FROM ratio_lines l
    JOIN discharge_claves dc ON dc.clave = l.clave AND dc.tipo_operacion = l.tipo_operacion
    WHERE dc.counts_in_ratio = 1
      AND dc.valid_from <= l.fecha_operacion
      AND (dc.valid_to IS NULL OR l.fecha_operacion <= dc.valid_to)
      AND (dc.requires_immex = 0 OR l.immex_programa IS NOT NULL)
),
mov AS (
    SELECT rfc, fecha, CAST(0 AS DECIMAL(18, 2)) AS num_v, valor AS den_v,
           0 AS num_n, 1 AS den_n
    FROM den
    UNION ALL
    SELECT rfc, fecha, valor AS num_v, CAST(0 AS DECIMAL(18, 2)) AS den_v,
           1 AS num_n, 0 AS den_n
    FROM num
),
daily AS (
    SELECT rfc, fecha, SUM(num_v) AS num_v, SUM(den_v) AS den_v,
           SUM(num_n) AS num_n, SUM(den_n) AS den_n
    FROM mov
    GROUP BY rfc, fecha
),
win AS (
    SELECT d.rfc, k.period_end, d.num_v, d.den_v, d.num_n, d.den_n
    FROM daily d
    CROSS JOIN cert_calendar k
    WHERE d.fecha >= k.period_start AND d.fecha <= k.period_end
),
sums AS (
    SELECT rfc, period_end, SUM(num_v) AS numerator, SUM(den_v) AS denominator,
           SUM(num_n) AS n_numerator, SUM(den_n) AS n_denominator
    FROM win
    GROUP BY rfc, period_end
),
companies AS (SELECT DISTINCT rfc FROM daily),
grid AS (
    SELECT c.rfc, k.period_start, k.period_end
    FROM companies c
    CROSS JOIN cert_calendar k
)
SELECT g.rfc, g.period_start, g.period_end,
       CAST(COALESCE(s.numerator, 0) AS DECIMAL(18, 2)) AS numerator,
       CAST(COALESCE(s.denominator, 0) AS DECIMAL(18, 2)) AS denominator,
       CAST(COALESCE(s.n_numerator, 0) AS BIGINT) AS n_numerator,
       CAST(COALESCE(s.n_denominator, 0) AS BIGINT) AS n_denominator
FROM grid g
LEFT JOIN sums s ON s.rfc = g.rfc AND s.period_end = g.period_end
ORDER BY g.rfc, g.period_end
