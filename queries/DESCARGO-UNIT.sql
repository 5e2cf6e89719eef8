-- DESCARGO-UNIT: a discharge whose tariff unit (UMT) is not the unit of any temporary
-- import of the same rfc and fracción. It is kept out of the ledger: the tool never
-- converts units silently.
WITH units AS (
    SELECT DISTINCT rfc, fraccion, umt FROM ledger_movements WHERE kind = 'I'
),
u AS (
    SELECT rfc, fraccion, MIN(umt) AS import_umt FROM units GROUP BY rfc, fraccion
)
SELECT 'DESCARGO-UNIT' AS check_code,
       'medium' AS severity,
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
       'Discharge ' || m.clave || ' partida ' || CAST(m.partida AS VARCHAR) || ' declares '
           || CAST(m.cantidad AS VARCHAR) || ' in UMT ' || m.umt || ' but the temporary imports of fraccion '
           || m.fraccion || ' use UMT ' || u.import_umt || '; not discharged' AS message,
       'Descargo ' || m.clave || ' partida ' || CAST(m.partida AS VARCHAR) || ' declara '
           || CAST(m.cantidad AS VARCHAR) || ' en UMT ' || m.umt || ' pero las importaciones temporales de la fracción '
           || m.fraccion || ' usan UMT ' || u.import_umt || '; no se descargó' AS mensaje,
       'Anexo 22, campo UMT (unidad de medida de la tarifa); the discharge is measured in the import''s tariff unit' AS citation,
       'partidas:' || m.pedimento_id || '#' || CAST(m.partida AS VARCHAR) AS evidence
FROM ledger_movements m
JOIN u ON u.rfc = m.rfc AND u.fraccion = m.fraccion
WHERE m.kind = 'U' AND m.fecha_operacion <= ${as_of}
