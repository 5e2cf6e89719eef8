-- The descargo ledger: which discharge partida discharges which temporary-import partida,
-- and how much (in the import's tariff unit). Deterministic: same input, same rows.
--
-- 1. EXPLICIT: descargos that name the original pedimento (Data Stage 512, CSV
--    descargo_*; a rectified original stands for the version in force) and destruction records that name their import pedimento (profile
--    desperdicios.csv) are applied first, up to the quantities available on both sides.
-- 2. FIFO (PEPS) on what remains, per pool (rfc, fraccion, umt, pool), oldest import first,
--    as interval overlap over running totals: import k covers (CI[k-1], CI[k]] of the
--    cumulative imported quantity, discharge j covers (CD[j-1], CD[j]] of the cumulative
--    discharged quantity. A discharge may only take from imports made on or before its
--    own date: E = running max of (CD - CI) is the excess so far (discharged with
--    nothing open), and the effective discharge interval is (CD[j-1]-E[j-1], CD[j]-E[j]].
--    Every boundary is a breakpoint; each segment between breakpoints belongs to the
--    import and to the discharge whose interval ends first at or after it (a reverse
--    running MIN), so the allocation is a pair of equi-joins, not a row-by-row loop.
-- 3. EXCESS: the part of a discharge that found nothing open (E[j] - E[j-1]); none for a
--    discharge marked only_open (A3: what finds no open temporary import was never one).
-- Pools: steps 2 and 3 run per (rfc, fraccion, umt, pool): insumos and activo fijo are
-- discharged separately (see ledger_movements). Explicit descargos name their import.
-- Ordering within a good: fecha_operacion, imports before discharges on the same day,
-- then the moment of payment (ledger_movements.pago: PEPS is first in, first out by the
-- payment; a payment without time after the timed ones of its day), then pedimento_id,
-- partida.
-- Bill of materials: a discharge of a product with a BOM in force is one movement per BOM
-- line (the insumo; see ledger_movements), identified by (pedimento_id, partida, fraccion);
-- producto_* / bom_* keep the chain: which return of which product, through which BOM
-- line (producto_fraccion, insumo fraccion, bom_valid_from), consumed which import lot.
-- pedimento-audit computes this view (and ledger_balances) with an equivalent native sweep
-- (src/checks/ledger_native.rs: same rows in the same order, checked against this SQL by
-- tests/ledger.rs and tests/generated.rs, and by the DuckDB/DataFusion/Spark runs in CI);
-- other engines run the SQL.
WITH mov AS (
    SELECT * FROM ledger_movements WHERE kind IN ('I', 'D') AND cantidad > 0
),
mov_i AS (SELECT * FROM mov WHERE kind = 'I'),
mov_d AS (SELECT * FROM mov WHERE kind = 'D'),
-- A descargo naming a pedimento that was rectified applies to the version in force (the
-- last rectificación of its chain, up to three deep), whichever was filed first.
rect AS (
    SELECT rectifica_id AS old_id, MIN(pedimento_id) AS new_id
    FROM pedimentos WHERE rectifica_id IS NOT NULL
    GROUP BY rectifica_id
),
desc_cur AS (
    SELECT d.pedimento_id, COALESCE(r3.new_id, r2.new_id, r1.new_id, d.original_id) AS original_id,
           d.original_fraccion, d.cantidad
    FROM descargos d
    LEFT JOIN rect r1 ON r1.old_id = d.original_id
    LEFT JOIN rect r2 ON r2.old_id = r1.new_id
    LEFT JOIN rect r3 ON r3.old_id = r2.new_id
),
exp_req AS (
    SELECT d.pedimento_id AS discharge_id, d.original_id, d.original_fraccion AS fraccion,
           SUM(d.cantidad) AS q
    FROM desc_cur d
    WHERE d.cantidad > 0 AND d.original_fraccion IS NOT NULL
    GROUP BY d.pedimento_id, d.original_id, d.original_fraccion
    UNION ALL
    -- A destruction record that names its import pedimento (profile desperdicios.csv).
    SELECT 'ACTA ' || x.acta AS discharge_id, x.pedimento AS original_id, x.fraccion,
           x.cantidad AS q
    FROM desperdicios x
    WHERE x.pedimento IS NOT NULL
),
exp_i AS (
    SELECT pedimento_id, fraccion, MIN(partida) AS partida FROM mov_i
    GROUP BY pedimento_id, fraccion
),
exp_d AS (
    SELECT pedimento_id, fraccion, MIN(partida) AS partida FROM mov_d
    GROUP BY pedimento_id, fraccion
),
exp_raw AS (
    SELECT i.rfc, i.fraccion, i.umt, i.pedimento_id AS import_id, i.partida AS import_partida,
           d.pedimento_id AS discharge_id, d.partida AS discharge_partida,
           LEAST(r.q, i.cantidad, d.cantidad) AS cantidad
    FROM exp_req r
    JOIN exp_i ei ON ei.pedimento_id = r.original_id AND ei.fraccion = r.fraccion
    JOIN mov_i i ON i.pedimento_id = ei.pedimento_id AND i.partida = ei.partida
    JOIN exp_d ed ON ed.pedimento_id = r.discharge_id AND ed.fraccion = r.fraccion
    JOIN mov_d d ON d.pedimento_id = ed.pedimento_id AND d.partida = ed.partida
                AND d.fraccion = ed.fraccion
    WHERE i.rfc = d.rfc AND i.umt = d.umt AND i.fecha_operacion <= d.fecha_operacion
),
-- Several explicit descargos may name one import: cap them in order at its quantity.
exp_capped AS (
    SELECT e.*,
           SUM(e.cantidad) OVER (PARTITION BY e.import_id, e.import_partida
                                 ORDER BY e.discharge_id, e.discharge_partida
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_q,
           i.cantidad AS import_q
    FROM exp_raw e
    JOIN mov_i i ON i.pedimento_id = e.import_id AND i.partida = e.import_partida
),
exp_alloc AS (
    SELECT rfc, fraccion, umt, import_id, import_partida, discharge_id, discharge_partida,
           LEAST(cantidad, import_q - (run_q - cantidad)) AS cantidad
    FROM exp_capped
    WHERE import_q - (run_q - cantidad) > 0
),
used_i AS (
    SELECT import_id AS pedimento_id, import_partida AS partida, SUM(cantidad) AS q
    FROM exp_alloc GROUP BY import_id, import_partida
),
used_d AS (
    SELECT discharge_id AS pedimento_id, discharge_partida AS partida, fraccion,
           SUM(cantidad) AS q
    FROM exp_alloc GROUP BY discharge_id, discharge_partida, fraccion
),
rem AS (
    SELECT m.kind, m.rfc, m.fraccion, m.umt, m.pool, m.pedimento_id, m.partida, m.fecha_operacion,
           m.pago, m.only_open, m.cantidad - COALESCE(u.q, m.cantidad - m.cantidad) AS q
    FROM mov_i m
    LEFT JOIN used_i u ON u.pedimento_id = m.pedimento_id AND u.partida = m.partida
    UNION ALL
    SELECT m.kind, m.rfc, m.fraccion, m.umt, m.pool, m.pedimento_id, m.partida, m.fecha_operacion,
           m.pago, m.only_open, m.cantidad - COALESCE(u.q, m.cantidad - m.cantidad) AS q
    FROM mov_d m
    LEFT JOIN used_d u ON u.pedimento_id = m.pedimento_id AND u.partida = m.partida
                      AND u.fraccion = m.fraccion
),
ev AS (
    SELECT kind, rfc, fraccion, umt, pool, pedimento_id, partida, fecha_operacion, pago, only_open,
           CASE WHEN kind = 'I' THEN 0 ELSE 1 END AS k_ord,
           CASE WHEN kind = 'I' THEN q ELSE q - q END AS qi,
           CASE WHEN kind = 'D' THEN q ELSE q - q END AS qd
    FROM rem
    WHERE q > 0
),
cum AS (
    SELECT ev.*,
           SUM(qi) OVER (PARTITION BY rfc, fraccion, umt, pool
                         ORDER BY fecha_operacion, k_ord, pago, pedimento_id, partida
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ci,
           SUM(qd) OVER (PARTITION BY rfc, fraccion, umt, pool
                         ORDER BY fecha_operacion, k_ord, pago, pedimento_id, partida
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cd
    FROM ev
),
ex AS (
    SELECT cum.*,
           MAX(GREATEST(cd - ci, ci - ci)) OVER (PARTITION BY rfc, fraccion, umt, pool
                         ORDER BY fecha_operacion, k_ord, pago, pedimento_id, partida
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS e
    FROM cum
),
ex2 AS (
    SELECT ex.*,
           COALESCE(LAG(e) OVER (PARTITION BY rfc, fraccion, umt, pool
                                 ORDER BY fecha_operacion, k_ord, pago, pedimento_id, partida),
                    e - e) AS e_prev
    FROM ex
),
ends_all AS (
    SELECT kind, rfc, fraccion, umt, pool, pedimento_id, partida, only_open,
           CASE WHEN kind = 'I' THEN ci ELSE cd - e END AS pos,
           CASE WHEN kind = 'I' THEN qi ELSE (cd - e) - (cd - qd - e_prev) END AS eff,
           e - e_prev AS excess
    FROM ex2
),
ends AS (SELECT * FROM ends_all WHERE eff > 0),
ends_i AS (SELECT * FROM ends WHERE kind = 'I'),
ends_d AS (SELECT * FROM ends WHERE kind = 'D'),
pts AS (
    SELECT rfc, fraccion, umt, pool, pos,
           MAX(CASE WHEN kind = 'I' THEN 1 ELSE 0 END) AS is_i,
           MAX(CASE WHEN kind = 'D' THEN 1 ELSE 0 END) AS is_d
    FROM ends
    GROUP BY rfc, fraccion, umt, pool, pos
),
seg AS (
    SELECT rfc, fraccion, umt, pool, pos,
           pos - COALESCE(LAG(pos) OVER (PARTITION BY rfc, fraccion, umt, pool ORDER BY pos), pos - pos) AS len,
           MIN(CASE WHEN is_i = 1 THEN pos ELSE pos + 1000000000000 END)
               OVER (PARTITION BY rfc, fraccion, umt, pool ORDER BY pos DESC
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS imp_end,
           MIN(CASE WHEN is_d = 1 THEN pos ELSE pos + 1000000000000 END)
               OVER (PARTITION BY rfc, fraccion, umt, pool ORDER BY pos DESC
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS dis_end
    FROM pts
),
fifo_seg AS (
    SELECT s.rfc, s.fraccion, s.umt, i.pedimento_id AS import_id, i.partida AS import_partida,
           d.pedimento_id AS discharge_id, d.partida AS discharge_partida, s.len
    FROM seg s
    JOIN ends_i i ON i.rfc = s.rfc AND i.fraccion = s.fraccion AND i.umt = s.umt AND i.pool = s.pool
                 AND i.pos = s.imp_end
    JOIN ends_d d ON d.rfc = s.rfc AND d.fraccion = s.fraccion AND d.umt = s.umt AND d.pool = s.pool
                 AND d.pos = s.dis_end
    WHERE s.len > 0
),
fifo AS (
    SELECT rfc, fraccion, umt, import_id, import_partida, discharge_id, discharge_partida,
           SUM(len) AS cantidad
    FROM fifo_seg
    GROUP BY rfc, fraccion, umt, import_id, import_partida, discharge_id, discharge_partida
),
excess AS (
    SELECT rfc, fraccion, umt, CAST(NULL AS VARCHAR) AS import_id, CAST(NULL AS INTEGER) AS import_partida,
           pedimento_id AS discharge_id, partida AS discharge_partida, excess AS cantidad
    FROM ends_all
    WHERE kind = 'D' AND excess > 0 AND only_open = 0
),
alloc AS (
    SELECT 'EXPLICIT' AS method, exp_alloc.* FROM exp_alloc
    UNION ALL
    SELECT 'FIFO' AS method, fifo.* FROM fifo
    UNION ALL
    SELECT 'EXCESS' AS method, excess.* FROM excess
)
SELECT a.method, a.rfc, a.fraccion, a.umt, a.import_id, a.import_partida,
       a.discharge_id, a.discharge_partida, d.clave AS discharge_clave,
       d.fecha_operacion AS discharge_fecha, CAST(a.cantidad AS DECIMAL(18, 5)) AS cantidad,
       d.producto_fraccion, d.producto_cantidad, d.bom_consumo, d.bom_merma_pct,
       d.bom_desperdicio_pct, d.bom_valid_from
FROM alloc a
JOIN mov_d d ON d.pedimento_id = a.discharge_id AND d.partida = a.discharge_partida
            AND d.fraccion = a.fraccion
ORDER BY a.rfc, a.fraccion, a.umt, a.discharge_id, a.discharge_partida, a.method, a.import_id, a.import_partida
