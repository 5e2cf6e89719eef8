-- VIRTUAL-LATE: a pair presented outside the window of its case. Window = allowed
-- (sender fecha_operacion - receiver fecha_operacion) in days, from
-- src/catalogs/virtual_cases.csv for the pair's claves (V1: G-I, 0..1 day: the receiver's
-- pedimento passes selección on the transfer day and the sender's no later than the next
-- day, never before: Manual de Operación Aduanera 2007, apartado A.7, norma 123ª num. 2). Pairs whose claves no case covers are left
-- to VIRTUAL-CLAVE.
-- The citation names the version of the virtual-operation rules in force on the receiver's
-- date (src/catalogs/virtual_versions.csv: MOA2007 until 2014-02-27, RCGMCE2013 from
-- 2014-02-28) and its rule only (instrument + rule; the numbering notes are in the explain
-- page, VIRTUAL-LATE.md); a date no version covers says so.
-- Consolidated pedimentos (virtual_sides.consolidado = 1) are not judged by the per-operation
-- window: a pair with a consolidated side is left out of the first part, and the second part
-- reports each consolidated side whose closing (payment date, `cierre`) is after the
-- deadline the pairing engine computed from its first remesa (`plazo_consolidado`, by the
-- version in force on the first remesa, `plazo_version`: MOA2007 the 10th business day of
-- the following month, Manual de Operación Aduanera 2007, apartado A.7, norma 125ª;
-- RCGMCE2013 day 20 of the following month, RCGMCE 2013 regla 3.8.9 fr. XXI; the weekly
-- option is not in the data, so the later, monthly deadline applies).
WITH vv AS (
    SELECT p.sender_id, p.receiver_id, v.version, v.cita
    FROM virtual_pairs p
    CROSS JOIN virtual_versions v
    WHERE v.valid_from <= p.receiver_fecha
      AND (v.valid_to IS NULL OR p.receiver_fecha <= v.valid_to)
)
SELECT 'VIRTUAL-LATE' AS check_code,
       'medium' AS severity,
       p.sender_rfc AS rfc,
       p.sender_id AS pedimento_id,
       CAST(NULL AS INTEGER) AS partida,
       p.receiver_id AS related_pedimento_id,
       CAST(NULL AS VARCHAR) AS fraccion,
       p.receiver_fecha AS period_start,
       ${as_of} AS as_of,
       p.allocated_quantity AS quantity,
       p.sender_value AS amount,
       CAST(NULL AS DECIMAL(18, 2)) AS igi,
       CAST(NULL AS DECIMAL(18, 2)) AS iva,
       CAST(NULL AS DECIMAL(18, 2)) AS ieps,
       p.sender_clave || ' sender pedimento (' || CAST(p.sender_fecha AS VARCHAR) || ') '
           || CASE WHEN p.days < p.window_min_days
                   THEN 'passed selección ' || CAST(p.window_min_days - p.days AS VARCHAR)
                        || ' day(s) before the receiver''s ' || p.receiver_id || ' ('
                        || CAST(p.receiver_fecha AS VARCHAR) || '); it may not be activated before the receiver side'
                   ELSE 'passed selección ' || CAST(p.days AS VARCHAR) || ' day(s) after the receiver''s '
                        || p.receiver_id || ' (' || CAST(p.receiver_fecha AS VARCHAR) || '); allowed at most '
                        || CAST(p.window_max_days AS VARCHAR) || ' day(s)' END
           || ' (group ' || p.window_group || ', cases ' || p.cases || ')' AS message,
       'Pedimento ' || p.sender_clave || ' de quien envía (' || CAST(p.sender_fecha AS VARCHAR) || ') '
           || CASE WHEN p.days < p.window_min_days
                   THEN 'pasó por el mecanismo de selección automatizado ' || CAST(p.window_min_days - p.days AS VARCHAR)
                        || ' día(s) antes que el de quien recibe ' || p.receiver_id || ' ('
                        || CAST(p.receiver_fecha AS VARCHAR) || '); no puede activarse antes que el lado receptor'
                   ELSE 'pasó por el mecanismo de selección automatizado ' || CAST(p.days AS VARCHAR) || ' día(s) después que el de quien recibe '
                        || p.receiver_id || ' (' || CAST(p.receiver_fecha AS VARCHAR) || '); se permiten a lo más '
                        || CAST(p.window_max_days AS VARCHAR) || ' día(s)' END
           || ' (grupo ' || p.window_group || ', supuestos ' || p.cases || ')' AS mensaje,
       COALESCE('[' || vv.version || '] ' || vv.cita,
                'No version of the virtual-operation rules in force on '
                    || CAST(p.receiver_fecha AS VARCHAR) || ' (src/catalogs/virtual_versions.csv)')
           || '; Ley Aduanera art. 185 fr. I' AS citation,
       'pedimentos:' || p.sender_id || ';pedimentos:' || p.receiver_id AS evidence
FROM virtual_pairs p
LEFT JOIN vv ON vv.sender_id = p.sender_id AND vv.receiver_id = p.receiver_id
JOIN virtual_sides ss ON ss.pedimento_id = p.sender_id
JOIN virtual_sides rs ON rs.pedimento_id = p.receiver_id
WHERE p.clave_ok = 1 AND (p.days < p.window_min_days OR p.days > p.window_max_days)
  AND ss.consolidado = 0 AND rs.consolidado = 0
UNION ALL
SELECT 'VIRTUAL-LATE' AS check_code,
       'medium' AS severity,
       s.rfc AS rfc,
       s.pedimento_id AS pedimento_id,
       CAST(NULL AS INTEGER) AS partida,
       CAST(NULL AS VARCHAR) AS related_pedimento_id,
       CAST(NULL AS VARCHAR) AS fraccion,
       s.primera_remesa AS period_start,
       ${as_of} AS as_of,
       s.quantity AS quantity,
       s.valor AS amount,
       CAST(NULL AS DECIMAL(18, 2)) AS igi,
       CAST(NULL AS DECIMAL(18, 2)) AS iva,
       CAST(NULL AS DECIMAL(18, 2)) AS ieps,
       'Consolidated ' || s.clave || ' pedimento (first remesa ' || CAST(s.primera_remesa AS VARCHAR)
           || ') closed (paid) on ' || CAST(s.cierre AS VARCHAR) || ', after its deadline '
           || CAST(s.plazo_consolidado AS VARCHAR) || ' under ' || s.plazo_version
           || ' (monthly option: ' || CASE WHEN v.consolidado_dias_habiles = 1
                THEN 'first ' || CAST(v.consolidado_dias_mes AS VARCHAR) || ' business days'
                ELSE 'first ' || CAST(v.consolidado_dias_mes AS VARCHAR) || ' days' END
           || ' of the following month)' AS message,
       'Pedimento consolidado ' || s.clave || ' (primera remesa ' || CAST(s.primera_remesa AS VARCHAR)
           || ') cerrado (pagado) el ' || CAST(s.cierre AS VARCHAR) || ', después de su plazo '
           || CAST(s.plazo_consolidado AS VARCHAR) || ' conforme a ' || s.plazo_version
           || ' (opción mensual: ' || CASE WHEN v.consolidado_dias_habiles = 1
                THEN 'primeros ' || CAST(v.consolidado_dias_mes AS VARCHAR) || ' días hábiles'
                ELSE 'primeros ' || CAST(v.consolidado_dias_mes AS VARCHAR) || ' días' END
           || ' del mes siguiente)' AS mensaje,
       '[' || s.plazo_version || '] ' || v.cita_consolidado || '; Ley Aduanera art. 185 fr. I' AS citation,
       'pedimentos:' || s.pedimento_id AS evidence
FROM virtual_sides s
JOIN virtual_versions v ON v.version = s.plazo_version
WHERE s.consolidado = 1 AND s.cierre > s.plazo_consolidado
