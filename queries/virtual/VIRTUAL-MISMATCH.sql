-- VIRTUAL-MISMATCH: a paired virtual operation whose two sides disagree.
--   goods: per pairing group and (fracción, UMT), the quantities of the sender side(s)
--          and receiver side(s) differ (a fracción on one side only shows as 0 on the
--          other), Manual de Operación Aduanera 2007, apartado A.7, norma 130ª: high; or the quantities agree but the values in USD (valor_dolares, the
--          one value both sides declare on the same basis) differ by more than the
--          tolerance (virtual_lines.value_flag, src/checks/virtual_pairing.rs): low, a hint
--          only (incrementables and exchange-rate movement between the two payment dates
--          make values differ legitimately). The peso values are not compared: the sender
--          declares valor comercial, the receiver valor en aduana. amount is NULL: a
--          difference is not money at risk;
--   reference: a side declared counterpart pedimento(s) none of which it was paired with
--          (a wrong number found by the fallback match, or a different pedimento);
--   rfc: a side declared a counterpart RFC that is not its partner's RFC.
WITH goods AS (
    SELECT 'VIRTUAL-MISMATCH' AS check_code,
           CASE WHEN l.quantity_diff <> 0 THEN 'high' ELSE 'low' END AS severity,
           l.sender_rfc AS rfc,
           l.sender_id AS pedimento_id,
           l.receiver_id AS related_pedimento_id,
           l.fraccion,
           l.quantity_diff AS quantity,
           CAST(NULL AS DECIMAL(18, 2)) AS amount,
           CASE WHEN l.quantity_diff <> 0
                THEN 'Quantity of fraccion ' || l.fraccion || ' (UMT ' || l.umt || ') differs: sender '
                     || l.sender_ids || ' ' || CAST(l.sender_quantity AS VARCHAR) || ', receiver '
                     || l.receiver_ids || ' ' || CAST(l.receiver_quantity AS VARCHAR) || ' (difference '
                     || CAST(l.quantity_diff AS VARCHAR) || '; values ' || CAST(l.sender_usd AS VARCHAR)
                     || ' vs ' || CAST(l.receiver_usd AS VARCHAR) || ' USD)'
                ELSE 'Value in USD of fraccion ' || l.fraccion || ' (UMT ' || l.umt || ') differs beyond the tolerance: sender '
                     || l.sender_ids || ' ' || CAST(l.sender_usd AS VARCHAR) || ' USD, receiver '
                     || l.receiver_ids || ' ' || CAST(l.receiver_usd AS VARCHAR) || ' USD (difference '
                     || CAST(l.usd_diff AS VARCHAR) || ')' END AS message,
           CASE WHEN l.quantity_diff <> 0
                THEN 'La cantidad de la fracción ' || l.fraccion || ' (UMT ' || l.umt || ') no coincide: quien envía '
                     || l.sender_ids || ' ' || CAST(l.sender_quantity AS VARCHAR) || ', quien recibe '
                     || l.receiver_ids || ' ' || CAST(l.receiver_quantity AS VARCHAR) || ' (diferencia '
                     || CAST(l.quantity_diff AS VARCHAR) || '; valores ' || CAST(l.sender_usd AS VARCHAR)
                     || ' vs ' || CAST(l.receiver_usd AS VARCHAR) || ' USD)'
                ELSE 'El valor en USD de la fracción ' || l.fraccion || ' (UMT ' || l.umt || ') difiere más allá de la tolerancia: quien envía '
                     || l.sender_ids || ' ' || CAST(l.sender_usd AS VARCHAR) || ' USD, quien recibe '
                     || l.receiver_ids || ' ' || CAST(l.receiver_usd AS VARCHAR) || ' USD (diferencia '
                     || CAST(l.usd_diff AS VARCHAR) || ')' END AS mensaje,
           'pedimentos:' || REPLACE(l.sender_ids, ';', ';pedimentos:') || ';pedimentos:'
               || REPLACE(l.receiver_ids, ';', ';pedimentos:') AS evidence
    FROM virtual_lines l
    WHERE l.quantity_diff <> 0 OR l.value_flag = 1
),
refs AS (
    SELECT 'VIRTUAL-MISMATCH' AS check_code,
           'low' AS severity,
           s.rfc,
           s.pedimento_id,
           s.declared_id AS related_pedimento_id,
           s.fraccion,
           CAST(NULL AS DECIMAL(18, 5)) AS quantity,
           CAST(NULL AS DECIMAL(18, 2)) AS amount,
           s.clave || ' pedimento declared counterpart ' || s.declared_ids || ' but it pairs with '
               || s.partners || ' (' || s.method || ' match): the declared reference is wrong' AS message,
           'El pedimento ' || s.clave || ' declaró como contraparte ' || s.declared_ids || ' pero se empareja con '
               || s.partners || ' (' || CASE WHEN s.method = 'declared' THEN 'por la referencia declarada' ELSE 'por coincidencia de mercancías y fechas' END || '): la referencia declarada es incorrecta' AS mensaje,
           'pedimentos:' || s.pedimento_id AS evidence
    FROM virtual_sides s
    WHERE s.n_partners > 0 AND s.declared_ids IS NOT NULL AND s.declared_ok = 0
),
rfcs AS (
    SELECT 'VIRTUAL-MISMATCH' AS check_code,
           'medium' AS severity,
           s.rfc,
           s.pedimento_id,
           s.partners AS related_pedimento_id,
           s.fraccion,
           CAST(NULL AS DECIMAL(18, 5)) AS quantity,
           CAST(NULL AS DECIMAL(18, 2)) AS amount,
           s.clave || ' pedimento declared counterpart RFC ' || s.declared_rfc || ' but its counterpart '
               || s.partners || ' was filed by ' || s.partner_rfcs AS message,
           'El pedimento ' || s.clave || ' declaró el RFC de contraparte ' || s.declared_rfc || ' pero su contraparte '
               || s.partners || ' la presentó ' || s.partner_rfcs AS mensaje,
           'pedimentos:' || s.pedimento_id AS evidence
    FROM virtual_sides s
    WHERE s.n_partners > 0 AND s.declared_rfc IS NOT NULL AND s.rfc_ok = 0
),
alls AS (
    SELECT * FROM goods
    UNION ALL
    SELECT * FROM refs
    UNION ALL
    SELECT * FROM rfcs
)
SELECT a.check_code, a.severity, a.rfc, a.pedimento_id,
       CAST(NULL AS INTEGER) AS partida,
       a.related_pedimento_id, a.fraccion,
       CAST(NULL AS DATE) AS period_start,
       ${as_of} AS as_of,
       a.quantity, a.amount,
       CAST(NULL AS DECIMAL(18, 2)) AS igi,
       CAST(NULL AS DECIMAL(18, 2)) AS iva,
       CAST(NULL AS DECIMAL(18, 2)) AS ieps,
       a.message,
       a.mensaje,
       'Quantity and description must agree across the pedimentos of a virtual operation (Manual de Operación Aduanera 2007, apartado A.7, norma 130ª); counterpart pedimento and RFC declared in the V1-V9 identificador (Anexo 22 (RGCE 2017), Apéndice 8; comparing them with the pair is this tool''s inference, not a rule)' AS citation,
       a.evidence
FROM alls a
