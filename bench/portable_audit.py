#!/usr/bin/env python3
"""The Rust-planned check families (virtual pairing, certification return ratio) for any SQL
engine: the same SQL files the product runs, with the few steps that are not SQL ported from
Rust line for line. Used by bench/spark_check.py and bench/crossengine.py (DuckDB) to compare
every check family with the product's findings.parquet, not only queries/*.sql.

Virtual pairing (src/checks/virtual_pairing.rs):
  * load: the engine runs the three SELECTs of `load` (VIRTUAL_LOAD below: the virtual
    pedimentos, their goods lines per fraccion/UMT, the declared counterparts) and the RFC list;
  * match: `pair` and `tables` below are a port of the Rust functions of the same names (the
    matching is a greedy graph algorithm over the virtual pedimentos only, a small share of the
    dataset: it runs on the driver, as the Rust engine runs it on one thread);
  * rules: the three resulting tables are registered in the engine and queries/virtual/*.sql
    run there unchanged.
Certification ratio (src/checks/cert.rs): queries/cert/ratio_series.sql runs in the engine over
the `cert_calendar` table built here as cert::calendar builds it; the CERT-RATIO findings apply
cert::ratio_points / ratio_findings (threshold 60 %/80 %, first-year exemption, partial window).
The series is also compared row by row with the product's cert_ratio_series.parquet.
Certification assessment (src/checks/cert/{facts,eval,reqs,assessment}.rs): CERT-A, CERT-AA,
CERT-AAA and the per-requirement cert_assessment table. The requirement facts are SQL
aggregates run in the engine (CERT_FACTS: programas, first IMMEX pedimento, empresas, IMSS,
suppliers, credits, refunds); requirement codes, rule versions, per-version treatments and
thresholds are read from the rule tables the Rust code reads (src/catalogs/cert_*.csv); the
verdict per requirement is `evaluate_req`. CERT-RENEWAL (src/checks/cert_renewal.rs): the
certificacion.csv rows through SQL, the vigencia and renewal window from
src/catalogs/cert_versions.csv and the business-day calendar below.
Not ported: the assessment's texts (measured, threshold, window, missing reason, messages):
the comparison is on statuses, bases, citations, verdicts, missing-data flags and amounts.

Exact arithmetic: quantities and values are scaled integers (5 and 2 decimals) as in Rust,
ratios use decimal.Decimal with enough precision.
"""
import bisect
import csv
import datetime as dt
import decimal
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIRTUAL_CLAVES = ["V1", "V2", "V3", "V4", "V5", "V6", "V7", "V8", "V9"]
SINGLE_CLAVES = ["V4"]
FALLBACK_WINDOW_DAYS = 30
MIN_SCORE = 70
VALUE_TOLERANCE_PCT = 5
QTY_SCALE, MONEY_SCALE = 5, 2
VIRTUAL_SQL = ["VIRTUAL-UNPAIRED.sql", "VIRTUAL-MISMATCH.sql", "VIRTUAL-LATE.sql", "VIRTUAL-CLAVE.sql"]
CERT_CODES = ["CERT-RATIO", "CERT-A", "CERT-AA", "CERT-AAA", "CERT-RENEWAL"]
EPOCH = dt.date(1970, 1, 1)

_CL = ", ".join(f"'{c}'" for c in VIRTUAL_CLAVES)
# The SELECTs of virtual_pairing::load, verbatim.
VIRTUAL_LOAD = {
    "sides": "SELECT pedimento_id, rfc, clave, tipo_operacion, fecha_operacion, aduana_seccion, "
             "contraparte_id, contraparte_rfc, consolidado, fecha_seleccion, fecha_pago "
             "FROM current_pedimentos "
             f"WHERE clave IN ({_CL}) AND fecha_operacion <= ${{as_of}}",
    "lines": "SELECT pa.pedimento_id, pa.fraccion, pa.umt, SUM(pa.cantidad_umt) AS qty, "
             "SUM(CASE WHEN v.tipo_operacion = 2 THEN pa.valor_comercial ELSE pa.valor_aduana END) AS valor, "
             "SUM(pa.valor_dolares) AS usd FROM partidas pa "
             f"JOIN (SELECT pedimento_id, tipo_operacion FROM current_pedimentos WHERE clave IN ({_CL})) v "
             "ON v.pedimento_id = pa.pedimento_id "
             "GROUP BY pa.pedimento_id, pa.fraccion, pa.umt",
    "refs": "SELECT pedimento_id, complemento1, complemento2 FROM identificadores "
            f"WHERE clave IN ({_CL}) AND partida IS NULL",
    # dataset_rfcs (src/checks/mod.rs): every company with a pedimento in the dataset.
    "rfcs": "SELECT DISTINCT rfc FROM pedimentos",
}


def days(d):
    return None if d is None else (d - EPOCH).days


def date_of(n):
    return EPOCH + dt.timedelta(days=n)


# ------------------------------------------------------------------ model (src/model)

def _nth_weekday(year, month, weekday, n):
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(7 + weekday - first.weekday()) % 7 + 7 * (n - 1))


def holidays(year):
    """model::calendar::holidays (Ley Federal del Trabajo art. 74)."""
    v = [dt.date(year, 1, 1), _nth_weekday(year, 2, 0, 1), _nth_weekday(year, 3, 0, 3),
         dt.date(year, 5, 1), dt.date(year, 9, 16), _nth_weekday(year, 11, 0, 3), dt.date(year, 12, 25)]
    if year >= 2024 and (year - 2024) % 6 == 0:
        v.append(dt.date(year, 10, 1))
    elif year < 2024 and (2018 - year) % 6 == 0:
        v.append(dt.date(year, 12, 1))
    return sorted(v)


def next_business_day(d):
    while d.weekday() >= 5 or d in holidays(d.year):
        d += dt.timedelta(days=1)
    return d


def _consolidated_rules():
    """virtual_pairing::consolidated_rules: (version, from, to, days, business) per row of
    src/catalogs/virtual_versions.csv."""
    out = []
    with open(os.path.join(ROOT, "src/catalogs/virtual_versions.csv"), encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            out.append((r["version"], dt.date.fromisoformat(r["valid_from"]),
                        dt.date.fromisoformat(r["valid_to"]) if r["valid_to"] else None,
                        int(r["consolidado_dias_mes"]), r["consolidado_dias_habiles"].strip() == "1"))
    return out


CONSOLIDATED_RULES = _consolidated_rules()


def consolidated_deadline(first):
    """virtual_pairing::consolidated_deadline: (version, deadline day number) of a
    consolidated virtual pedimento whose first remesa is `first`, or None."""
    f = date_of(first)
    rule = next((r for r in CONSOLIDATED_RULES if r[1] <= f and (r[2] is None or f <= r[2])), None)
    if rule is None:
        return None
    nxt = dt.date(f.year + (f.month == 12), f.month % 12 + 1, 1)
    if rule[4]:
        d = next_business_day(nxt)
        for _ in range(1, rule[3]):
            d = next_business_day(d + dt.timedelta(days=1))
    else:
        d = next_business_day(nxt.replace(day=rule[3]))
    return rule[0], days(d)


def consolidated_columns(s):
    """virtual_sides' primera_remesa, cierre, plazo_version, plazo_consolidado."""
    if not s.consolidado:
        return (None, None, None, None)
    due = consolidated_deadline(s.primera_remesa)
    return (s.primera_remesa, s.cierre, due[0] if due else None, due[1] if due else None)


def business_window_max(receiver, window_max):
    if window_max <= 0:
        return window_max
    r = date_of(receiver)
    d = r
    for _ in range(window_max):
        d = next_business_day(d + dt.timedelta(days=1))
    return (d - r).days


def _digits(s, width):
    t = s.strip()
    if not t or not t.isascii() or not t.isdigit() or len(t) > width:
        return None
    return t.rjust(width, "0")


def pedimento_id(s):
    """model::PedimentoKey::parse(s).id(), None when it does not parse."""
    parts = [p for p in re.split(r"[- /]", s) if p]
    if len(parts) != 4 or not re.fullmatch(r"[+-]?[0-9]+", parts[0]):
        return None
    year = int(parts[0])
    if len(parts[0]) == 2:
        year += 2000
    a, p, n = _digits(parts[1], 3), _digits(parts[2], 4), _digits(parts[3], 7)
    if a is None or p is None or n is None:
        return None
    return f"{year:04d}-{a}-{p}-{n}"


def rfc(s):
    """model::rfc: trimmed, upper-case, letters + YYMMDD + homoclave; None when invalid."""
    t = s.strip().upper()
    n = len(t)
    if n not in (12, 13):
        return None
    k = n - 9
    ok_letters = all(("A" <= c <= "Z") or c in "Ñ&" for c in t[:k])
    date = t[k:k + 6]
    ok_date = all("0" <= c <= "9" for c in date) and 1 <= int(date[2:4]) <= 12 and 1 <= int(date[4:6]) <= 31
    ok_homo = all(("A" <= c <= "Z") or ("0" <= c <= "9") for c in t[k + 6:])
    return t if ok_letters and ok_date and ok_homo else None


def scaled(v, scale):
    """A decimal as a scaled integer (Rust: strict_cast to Decimal(38, scale)); NULL -> 0."""
    if v is None:
        return 0
    return int(decimal.Decimal(str(v)).scaleb(scale).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))


def unscaled(i, scale):
    return decimal.Decimal(i).scaleb(-scale)


# ------------------------------------------------------------------ catalogue

def combos():
    """virtual_pairing::combos: (sender clave, receiver clave) -> cases, groups, window."""
    out = {}
    with open(os.path.join(ROOT, "src/catalogs/virtual_cases.csv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            row = {k: v.strip() for k, v in row.items()}
            s, r = row["clave_sender"], row["clave_receiver"]
            if not s or not r:
                continue
            try:
                wmin, wmax = int(row["window_min_days"]), int(row["window_max_days"])
            except ValueError:
                continue
            e = out.setdefault((s, r), {"cases": "", "groups": "", "wmin": wmin, "wmax": wmax, "inferred": False})
            e["cases"] += ("," if e["cases"] else "") + row["case"]
            if row["group"] not in e["groups"].split("/"):
                e["groups"] += ("/" if e["groups"] else "") + row["group"]
            e["wmin"] = min(e["wmin"], wmin)
            e["wmax"] = max(e["wmax"], wmax)
            e["inferred"] = e["inferred"] or row["inferred"] == "1"
    return out


COMBOS = combos()


def receiver_grace(clave):
    v = [c["wmax"] for (_, r), c in COMBOS.items() if r == clave]
    return max(v) if v else 1


# ------------------------------------------------------------------ load

class Side:
    __slots__ = ("id", "rfc", "clave", "tipo", "fecha", "aduana", "declared_ids", "declared_rfc", "lines",
                 "consolidado", "primera_remesa", "cierre")

    def single(self):
        return self.clave in SINGLE_CLAVES

    def qty(self):
        return sum(l[2] for l in self.lines)

    def value(self):
        return sum(l[3] for l in self.lines)


def load(peds, lines, refs):
    """virtual_pairing::load over the rows of VIRTUAL_LOAD (lists of dicts)."""
    sides, at = [], {}
    for r in peds:
        s = Side()
        s.id = r["pedimento_id"] or ""
        s.rfc = r["rfc"] or ""
        s.clave = r["clave"] or ""
        s.tipo = int(r["tipo_operacion"] or 0)
        s.fecha = days(r["fecha_operacion"]) or 0
        s.aduana = r["aduana_seccion"] or ""
        s.declared_ids = [r["contraparte_id"]] if r["contraparte_id"] is not None else []
        s.declared_rfc = r["contraparte_rfc"]
        s.lines = []
        s.consolidado = bool(r["consolidado"])
        s.primera_remesa = days(r["fecha_seleccion"]) or s.fecha
        s.cierre = days(r["fecha_pago"]) or s.fecha
        at[s.id] = len(sides)
        sides.append(s)
    for r in refs:
        k = at.get(r["pedimento_id"]) if r["pedimento_id"] is not None else None
        if k is None:
            continue
        if r["complemento1"] is not None:
            key = pedimento_id(r["complemento1"])
            if key is not None:
                sides[k].declared_ids.append(key)
        if sides[k].declared_rfc is None and r["complemento2"] is not None:
            sides[k].declared_rfc = rfc(r["complemento2"])
    for r in lines:
        k = at.get(r["pedimento_id"]) if r["pedimento_id"] is not None else None
        if k is None:
            continue
        sides[k].lines.append((r["fraccion"] or "", r["umt"] or "", scaled(r["qty"], QTY_SCALE),
                               scaled(r["valor"], MONEY_SCALE), scaled(r["usd"], MONEY_SCALE)))
    for s in sides:
        s.declared_ids = sorted(set(s.declared_ids))
        s.lines.sort()
    return sides


# ------------------------------------------------------------------ pairing

def score(s, r):
    """virtual_pairing::score: RFCs 30, fracciones 30, quantities 30, dates 10."""
    a, b = s.declared_rfc == r.rfc, r.declared_rfc == s.rfc
    rfc_pts = 30 if a and b else 20 if a or b else 0

    def keys(x):
        m = {}
        for l in x.lines:
            m[(l[0], l[1])] = m.get((l[0], l[1]), 0) + l[2]
        return m
    ks, kr = keys(s), keys(r)
    alls = set(ks) | set(kr)
    common = sum(1 for k in ks if k in kr)
    frac = 30 * common // len(alls) if alls else 0
    diff = tot = 0
    for k in alls:
        x, y = ks.get(k, 0), kr.get(k, 0)
        diff += abs(x - y)
        tot += max(x, y)
    qty = 0 if tot == 0 else max(30 - (30 * diff // tot), 0)
    date = max(10 - 10 * abs(s.fecha - r.fecha) // FALLBACK_WINDOW_DAYS, 0)
    return rfc_pts + frac + qty + date


def _same_goods(a, b):
    return len(a.lines) == len(b.lines) and all(x[:3] == y[:3] for x, y in zip(a.lines, b.lines))


def _rfc_consistent(x, c):
    return ((x.declared_rfc is None or x.declared_rfc == c.rfc)
            and (c.declared_rfc is None or c.declared_rfc == x.rfc)
            and (x.declared_rfc is not None or c.declared_rfc is not None))


def pair(sides):
    """virtual_pairing::pair -> (sides, pairs, side_group, groups); a pair is a dict."""
    sides = sorted(sides, key=lambda s: (s.fecha, s.id))
    n = len(sides)
    idx = {s.id: i for i, s in enumerate(sides)}
    edges = {}
    for a, sa in enumerate(sides):
        if sa.single():
            continue
        for d in sa.declared_ids:
            b = idx.get(d)
            if b is not None and b != a and not sides[b].single() and \
                    (sa.declared_rfc is None or sa.declared_rfc == sides[b].rfc):
                if sa.tipo != sides[b].tipo:
                    e = (b, a) if sa.tipo == 1 else (a, b)
                else:
                    e = (min(a, b), max(a, b))
                edges[e] = "declared"
    paired = [False] * n
    for s, r in edges:
        paired[s] = paired[r] = True

    def pool(tipo):
        by_rfc, by_decl = {}, {}
        for i, s in enumerate(sides):
            if paired[i] or s.single() or s.tipo != tipo:
                continue
            by_rfc.setdefault(s.rfc, []).append(i)
            if s.declared_rfc is not None:
                by_decl.setdefault(s.declared_rfc, []).append(i)
        return by_rfc, by_decl

    for stage, x_tipo, c_tipo in [(0, 2, 1), (0, 1, 2), (1, 2, 1), (1, 1, 2), (2, 2, 1), (2, 1, 2)]:
        by_rfc, by_decl = pool(c_tipo)
        if not by_rfc:
            continue
        for x in range(n):
            sx = sides[x]
            if paired[x] or sx.single() or sx.tipo != x_tipo:
                continue
            cands = []

            def within(v):
                fechas = [sides[i].fecha for i in v]
                lo = bisect.bisect_left(fechas, sx.fecha - FALLBACK_WINDOW_DAYS)
                for i in v[lo:]:
                    if sides[i].fecha > sx.fecha + FALLBACK_WINDOW_DAYS:
                        break
                    cands.append(i)
            if sx.declared_rfc is not None and sx.declared_rfc in by_rfc:
                within(by_rfc[sx.declared_rfc])
            if sx.rfc in by_decl:
                within(by_decl[sx.rfc])
            cands = sorted(set(cands))
            xkeys = {(l[0], l[1]): l[2] for l in sx.lines}
            cands = [c for c in cands if not paired[c] and _rfc_consistent(sx, sides[c])
                     and any((l[0], l[1]) in xkeys for l in sides[c].lines)]
            if not cands:
                continue
            cands.sort(key=lambda c: (abs(sides[c].fecha - sx.fecha), sides[c].fecha, c))
            if stage == 0:
                chosen = next(([c] for c in cands if _same_goods(sx, sides[c])), [])
            elif stage == 1:
                rem = dict(xkeys)
                take = []
                for c in cands:
                    if all((l[0], l[1]) in rem and rem[(l[0], l[1])] >= l[2] for l in sides[c].lines):
                        for l in sides[c].lines:
                            rem[(l[0], l[1])] -= l[2]
                        take.append(c)
                    if all(q == 0 for q in rem.values()):
                        break
                chosen = take if len(take) >= 2 and all(q == 0 for q in rem.values()) else []
            else:
                best = None
                for c in cands:
                    s, r = (x, c) if x_tipo == 2 else (c, x)
                    k = (score(sides[s], sides[r]), -c)
                    if best is None or k > best:
                        best = k
                chosen = [-best[1]] if best is not None and best[0] >= MIN_SCORE else []
            for c in chosen:
                edges[(x, c) if x_tipo == 2 else (c, x)] = "fallback"
                paired[c] = paired[x] = True
    # 3. Groups (union-find, the smaller index is the root) and allocation.
    parent = list(range(n))

    def find(x):
        r = x
        while parent[r] != r:
            r = parent[r]
        while parent[x] != r:
            parent[x], x = r, parent[x]
        return r
    for s, r in sorted(edges):
        ra, rb = find(s), find(r)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    group_of_root, side_group = {}, [None] * n
    for i in range(n):
        if paired[i]:
            side_group[i] = group_of_root.setdefault(find(i), len(group_of_root))
    pairs = [{"sender": s, "receiver": r, "method": m, "score": score(sides[s], sides[r]),
              "allocated": 0, "group": side_group[s]} for (s, r), m in sorted(edges.items())]
    pairs.sort(key=lambda p: (p["group"], p["sender"], p["receiver"]))
    rem = {}
    for i, s in enumerate(sides):
        if paired[i]:
            for l in s.lines:
                rem[(i, l[0], l[1])] = rem.get((i, l[0], l[1]), 0) + l[2]
    for p in pairs:
        alloc = 0
        for l in sides[p["sender"]].lines:
            a = rem.get((p["sender"], l[0], l[1]), 0)
            b = rem.get((p["receiver"], l[0], l[1]), 0)
            t = max(min(a, b), 0)
            if t > 0:
                rem[(p["sender"], l[0], l[1])] -= t
                rem[(p["receiver"], l[0], l[1])] -= t
                alloc += t
        p["allocated"] = alloc
    return sides, pairs, side_group, len(group_of_root)


# ------------------------------------------------------------------ tables

SIDES_SCHEMA = [("pedimento_id", "string"), ("rfc", "string"), ("clave", "string"), ("tipo_operacion", "int"),
                ("fecha_operacion", "date"), ("declared_id", "string"), ("declared_ids", "string"),
                ("declared_rfc", "string"), ("declared_ok", "int"), ("rfc_ok", "int"), ("partners", "string"),
                ("partner_rfcs", "string"), ("n_partners", "int"), ("method", "string"),
                ("counterpart_in_dataset", "int"), ("due", "int"), ("single", "int"), ("fraccion", "string"),
                ("quantity", "qty"), ("valor", "money"), ("consolidado", "int"), ("primera_remesa", "date"),
                ("cierre", "date"), ("plazo_version", "string"), ("plazo_consolidado", "date")]
PAIRS_SCHEMA = [("group_id", "int"), ("sender_id", "string"), ("sender_rfc", "string"), ("sender_clave", "string"),
                ("sender_tipo", "int"), ("sender_fecha", "date"), ("sender_aduana", "string"),
                ("receiver_id", "string"), ("receiver_rfc", "string"), ("receiver_clave", "string"),
                ("receiver_tipo", "int"), ("receiver_fecha", "date"), ("receiver_aduana", "string"),
                ("method", "string"), ("score", "int"), ("days", "int"), ("sender_quantity", "qty"),
                ("receiver_quantity", "qty"), ("sender_value", "money"), ("receiver_value", "money"),
                ("allocated_quantity", "qty"), ("group_senders", "int"), ("group_receivers", "int"),
                ("clave_ok", "int"), ("cases", "string"), ("window_group", "string"),
                ("window_min_days", "int"), ("window_max_days", "int"), ("clave_inferred", "int")]
LINES_SCHEMA = [("group_id", "int"), ("sender_id", "string"), ("receiver_id", "string"), ("sender_rfc", "string"),
                ("receiver_rfc", "string"), ("sender_ids", "string"), ("receiver_ids", "string"),
                ("fraccion", "string"), ("umt", "string"), ("sender_quantity", "qty"),
                ("receiver_quantity", "qty"), ("sender_value", "money"), ("receiver_value", "money"),
                ("quantity_diff", "qty"), ("sender_usd", "money"), ("receiver_usd", "money"),
                ("usd_diff", "money"), ("value_flag", "int")]


def _typed(schema, rows):
    """Rows of scaled integers / day numbers -> Python values of the schema's types."""
    out = []
    for r in rows:
        t = []
        for (name, ty), v in zip(schema, r):
            if v is None:
                t.append(None)
            elif ty == "date":
                t.append(date_of(v))
            elif ty == "qty":
                t.append(unscaled(v, QTY_SCALE))
            elif ty == "money":
                t.append(unscaled(v, MONEY_SCALE))
            else:
                t.append(v)
        out.append(tuple(t))
    return out


def tables(pairing, rfcs, as_of, tolerance_pct=VALUE_TOLERANCE_PCT):
    """virtual_pairing::tables -> {'virtual_sides': rows, 'virtual_pairs': rows,
    'virtual_lines': rows} (tuples in the *_SCHEMA column order)."""
    sides, pairs, _side_group, groups = pairing
    n = len(sides)
    partners = [[] for _ in range(n)]
    method = [None] * n
    for p in pairs:
        partners[p["sender"]].append(p["receiver"])
        partners[p["receiver"]].append(p["sender"])
        for x in (p["sender"], p["receiver"]):
            method[x] = "fallback" if "fallback" in (method[x], p["method"]) else "declared"
    srows = []
    for i, s in enumerate(sides):
        pids = [sides[j].id for j in partners[i]]
        prfcs = sorted({sides[j].rfc for j in partners[i]})
        grace = receiver_grace(s.clave) if s.tipo == 1 else 0
        srows.append((
            s.id, s.rfc, s.clave, s.tipo, s.fecha,
            s.declared_ids[0] if s.declared_ids else None,
            ";".join(s.declared_ids) if s.declared_ids else None,
            s.declared_rfc,
            int(bool(s.declared_ids) and any(d in pids for d in s.declared_ids)),
            int(s.declared_rfc is not None and s.declared_rfc in prfcs),
            ";".join(pids) if pids else None,
            ";".join(prfcs) if prfcs else None,
            len(pids), method[i],
            int(s.declared_rfc is not None and s.declared_rfc in rfcs),
            int(s.fecha + grace < as_of),
            int(s.single()),
            s.lines[0][0] if s.lines else None,
            s.qty(), s.value(),
            int(s.consolidado)) + consolidated_columns(s))
    g_senders = [set() for _ in range(groups)]
    g_receivers = [set() for _ in range(groups)]
    for p in pairs:
        g_senders[p["group"]].add(p["sender"])
        g_receivers[p["group"]].add(p["receiver"])

    def ids_of(st):
        return ";".join(sides[i].id for i in sorted(st))
    prows = []
    for p in pairs:
        s, r = sides[p["sender"]], sides[p["receiver"]]
        c = COMBOS.get((s.clave, r.clave))
        prows.append((
            p["group"], s.id, s.rfc, s.clave, s.tipo, s.fecha, s.aduana,
            r.id, r.rfc, r.clave, r.tipo, r.fecha, r.aduana,
            p["method"], p["score"], s.fecha - r.fecha, s.qty(), r.qty(), s.value(), r.value(),
            p["allocated"], len(g_senders[p["group"]]), len(g_receivers[p["group"]]),
            int(c is not None and s.tipo == 2 and r.tipo == 1),
            c["cases"] if c else None, c["groups"] if c else None,
            c["wmin"] if c else None, business_window_max(r.fecha, c["wmax"]) if c else None,
            int(c["inferred"]) if c else None))
    lrows = []
    for g in range(groups):
        tot = {}
        for i in g_senders[g]:
            for l in sides[i].lines:
                e = tot.setdefault((l[0], l[1]), [0] * 6)
                e[0] += l[2]
                e[2] += l[3]
                e[4] += l[4]
        for i in g_receivers[g]:
            for l in sides[i].lines:
                e = tot.setdefault((l[0], l[1]), [0] * 6)
                e[1] += l[2]
                e[3] += l[3]
                e[5] += l[4]
        s0, r0 = min(g_senders[g]), min(g_receivers[g])
        for (fr, umt), t in sorted(tot.items()):
            lrows.append((
                g, sides[s0].id, sides[r0].id, sides[s0].rfc, sides[r0].rfc,
                ids_of(g_senders[g]), ids_of(g_receivers[g]), fr, umt,
                t[0], t[1], t[2], t[3], t[1] - t[0], t[4], t[5], t[5] - t[4],
                int(abs(t[5] - t[4]) * 100 > tolerance_pct * max(t[4], t[5]))))
    return {"virtual_sides": (SIDES_SCHEMA, _typed(SIDES_SCHEMA, srows)),
            "virtual_pairs": (PAIRS_SCHEMA, _typed(PAIRS_SCHEMA, prows)),
            "virtual_lines": (LINES_SCHEMA, _typed(LINES_SCHEMA, lrows))}


# ------------------------------------------------------------------ certification ratio

CERT_VALUE = "CASE WHEN p.tipo_operacion = 2 THEN pa.valor_comercial ELSE pa.valor_aduana END"


def _add_months(d, m):
    y, mo = divmod(d.month - 1 + m, 12)
    y += d.year
    mo += 1
    last = (dt.date(y + (mo == 12), mo % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, mo, min(d.day, last))


def window_start(end):
    return _add_months(end, -12) + dt.timedelta(days=1)


def calendar(first, as_of):
    """cert::calendar: every month end from first's month to before as_of, then as_of."""
    out = []
    m = first.replace(day=1)
    while True:
        end = _add_months(m, 1) - dt.timedelta(days=1)
        if end >= as_of:
            break
        out.append((window_start(end), end))
        m = _add_months(m, 1)
    out.append((window_start(as_of), as_of))
    return out


def cert_facts(programas):
    """cert::facts (the profile part): rfc -> (sensitive, program_start)."""
    out = {}
    for r in programas:
        if r["rfc"] is None:
            continue
        f = out.setdefault(r["rfc"], {"sector": None, "start": None})
        if r["sector"] == "sensible":
            f["sector"] = "sensible"
        elif r["sector"] == "general" and f["sector"] is None:
            f["sector"] = "general"
        if r["fecha_inicio"] is not None:
            f["start"] = r["fecha_inicio"] if f["start"] is None else min(f["start"], r["fecha_inicio"])
    return out


def cert_ratio(series, facts, first, as_of):
    """cert::ratio_points + ratio_findings: (series rows with status, CERT-RATIO findings).
    Thresholds and the first-year exemption come from src/catalogs/cert_thresholds.csv
    (cert_threshold and exempt_first_months, defined with the assessment below)."""
    first_month = first.replace(day=1)
    points, findings = [], []
    for r in series:
        f = facts.get(r["rfc"])
        sensitive = bool(f) and f["sector"] == "sensible"
        t = cert_threshold(sensitive)
        exempt = bool(f) and not sensitive and f["start"] is not None and \
            r["period_end"] < _add_months(f["start"], iparam("B-I-d", "exempt_first_months"))
        num, den = decimal.Decimal(r["numerator"]), decimal.Decimal(r["denominator"])
        passes = num >= t * den
        full = r["period_start"] >= first_month
        status = "exempt" if exempt else "pass" if passes else "partial" if not full else "fail"
        shortfall = None if passes else (t * den - num).quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_EVEN)
        points.append(dict(r, status=status, full_window=full))
        if r["period_end"] == as_of and status in ("fail", "partial"):
            findings.append({"check_code": "CERT-RATIO", "rfc": r["rfc"], "pedimento_id": None, "partida": None,
                             "related_pedimento_id": None, "fraccion": None, "quantity": None,
                             "amount": shortfall if status == "fail" else None,
                             "igi": None, "iva": None, "ieps": None})
    return points, findings


# ------------------------------------------------------------------ driver

def run(render, query, register_rows, as_of, tolerance_pct=VALUE_TOLERANCE_PCT, profiles=None, opts=None):
    """Runs the Rust-planned families on an engine. render(sql) substitutes ${as_of} etc.;
    query(sql) -> list of row dicts; register_rows(name, schema, rows) makes a table of
    Python values. Returns (findings rows, cert series rows, cert assessment rows). The
    engine must already hold the dataset tables, the catalogs, programas and the
    materialized views; the other certification profile tables are registered here from
    `profiles`. opts: the certification options (parse_options)."""
    opts = opts or {}
    if opts.get("value_basis", "declarado") != "declarado":
        raise ValueError(f"value basis {opts['value_basis']} is not ported (declarado only)")
    q = {k: query(render(v)) for k, v in VIRTUAL_LOAD.items()}
    sides = load(q["sides"], q["lines"], q["refs"])
    rfcs = {r["rfc"] for r in q["rfcs"] if r["rfc"] is not None}
    tabs = tables(pair(sides), rfcs, days(as_of), tolerance_pct)
    for name, (schema, rows) in tabs.items():
        register_rows(name, schema, rows)
    out = []
    for f in VIRTUAL_SQL:
        out += query(render(open(os.path.join(ROOT, "queries/virtual", f), encoding="utf-8").read()))
    first = query("SELECT MIN(fecha_operacion) AS first FROM current_pedimentos")[0]["first"]
    first = min(first or as_of, as_of)
    register_rows("cert_calendar", [("period_start", "date"), ("period_end", "date")], calendar(first, as_of))
    text = open(os.path.join(ROOT, "queries/cert/ratio_series.sql"), encoding="utf-8").read()
    series = query(render(text.replace("${cert_value}", CERT_VALUE)))
    facts = cert_facts(query("SELECT rfc, sector, fecha_inicio FROM programas"))
    points, cert = cert_ratio(series, facts, first, as_of)
    present = register_cert_profile(profiles, register_rows)
    # The registry's CERT-A/AA/AAA see the companies of the as-of point; the
    # cert_assessment table those of the whole series.
    facts = cert_facts_sql(render, query, as_of)
    at_rows, _ = cert_assessment(facts, points, present, as_of, full_series=False, opts=opts)
    full_rows, _ = cert_assessment(facts, points, present, as_of, full_series=True, opts=opts)
    return out + cert + cert_findings(at_rows) + renewal_findings(query, as_of), points, full_rows


def compare_series(label, engine, product, mine):
    """The product's cert_ratio_series rows vs the engine's: same keys and exact sums."""
    def k(r):
        return (str(r["rfc"]), str(r["period_start"]), str(r["period_end"]),
                str(decimal.Decimal(str(r["numerator"])).quantize(decimal.Decimal("0.01"))),
                str(decimal.Decimal(str(r["denominator"])).quantize(decimal.Decimal("0.01"))),
                int(r["n_numerator"]), int(r["n_denominator"]), str(r["status"]))
    a, b = sorted(map(k, product)), sorted(map(k, mine))
    if a == b:
        return len(a)
    import sys
    print(f"{label}: cert_ratio_series differs between the product and {engine}", file=sys.stderr)
    for r in sorted(set(a) - set(b))[:20]:
        print("  only product:", r, file=sys.stderr)
    for r in sorted(set(b) - set(a))[:20]:
        print(f"  only {engine}:", r, file=sys.stderr)
    return None


# ------------------------------------------------------------------ certification assessment
#
# CERT-A / CERT-AA / CERT-AAA and the per-requirement cert_assessment table
# (src/checks/cert/{facts,eval,reqs,assessment}.rs), and CERT-RENEWAL
# (src/checks/cert_renewal.rs). The requirement facts are SQL aggregates run in the engine
# (CERT_FACTS below) over the dataset and the profile tables; the requirement codes, rule
# versions, per-version treatments and thresholds are the rule tables the Rust code reads
# (src/catalogs/cert_*.csv, loaded here as tables); the per-requirement verdict is the small
# function `evaluate_req`, a port of reqs.rs::evaluate_req that reads those tables.

def _catalog(name):
    with open(os.path.join(ROOT, "src/catalogs", name), encoding="utf-8", newline="") as f:
        return [{k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(f)]


def _iso(s):
    return None if s is None else dt.date.fromisoformat(s)


CERT_REQS = _catalog("cert_requirements.csv")
CERT_VERSIONS = [dict(v, valid_from=_iso(v["valid_from"]), valid_to=_iso(v["valid_to"]))
                 for v in _catalog("cert_versions.csv")]
CERT_VERSION_REQS = {(r["version"], r["code"]): (r["treatment"], r["citation"])
                     for r in _catalog("cert_version_reqs.csv")}
CERT_THRESHOLDS = {(r["code"], r["parameter"]): decimal.Decimal(r["value"])
                   for r in _catalog("cert_thresholds.csv")}


def param(code, name):
    return CERT_THRESHOLDS[(code, name)]


def iparam(code, name):
    return int(CERT_THRESHOLDS[(code, name)])


def cert_threshold(sensitive):
    """cert::threshold: the minimum return ratio (B-I-d general, S-b sensitive sectors)."""
    return param("S-b" if sensitive else "B-I-d", "min_ratio")


def version_in_force(d):
    for v in CERT_VERSIONS:
        if d >= v["valid_from"] and (v["valid_to"] is None or d <= v["valid_to"]):
            return v
    return None


def resolve(v, code, base):
    """cert_rules::resolve -> (treatment, citation); treatment cite | manual | repealed."""
    t = CERT_VERSION_REQS.get((v["id"], code))
    if t is not None:
        return t
    return v["unlisted"], v["unlisted_citation"] or base


# The profile tables of the assessment (src/profile.rs): name -> columns and types. Loaded
# here from the CSV (trimmed, empty = NULL, RFCs upper-case, absent optional columns NULL)
# and registered in the engine with register_rows.
CERT_PROFILE = {
    "empresas": [("rfc", "string"), ("fecha_inicio_operaciones", "date"), ("capital_maquinaria_mxn", "money"),
                 ("maquinaria_mxn", "money"), ("opinion_positiva", "int"), ("fecha_opinion", "date"),
                 ("en_listas", "int"), ("csd_vigente", "int")],
    "imss": [("rfc", "string"), ("bimestre", "string"), ("trabajadores", "int")],
    "proveedores": [("rfc", "string"), ("proveedor_rfc", "string"), ("compras_mxn", "money"), ("iva_mxn", "money"),
                    ("opinion_positiva", "int"), ("fecha_opinion", "date"), ("en_listas", "int"), ("year", "int")],
    "creditos": [("rfc", "string"), ("fecha", "date"), ("monto_mxn", "money"), ("pagado", "int"),
                 ("convenio", "int")],
    "devoluciones": [("rfc", "string"), ("fecha_solicitud", "date"), ("fecha", "date"),
                     ("autorizado_mxn", "money"), ("negado_mxn", "money")],
    "certificacion": [("rfc", "string"), ("modalidad", "string"), ("fecha_autorizacion", "date"),
                      ("fecha_renovacion", "date"), ("fecha_aviso_renovacion", "date")],
}
# programas.csv is registered by the engine scripts (crossengine.PROGRAMAS); its presence
# matters to the assessment too.
CERT_FILES = ["programas"] + list(CERT_PROFILE)


def _profile_rows(profiles, name, schema):
    path = os.path.join(profiles, name + ".csv") if profiles else ""
    if not path or not os.path.exists(path):
        return False, []
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    rd = csv.reader(text.splitlines())
    head = [h.strip().lower() for h in next(rd, [])]
    out = []
    for rec in rd:
        if not any(x.strip() for x in rec):
            continue
        row = []
        for c, t in schema:
            v = rec[head.index(c)].strip() if c in head and head.index(c) < len(rec) else ""
            if v == "":
                row.append(None)
            elif t == "date":
                row.append(dt.date.fromisoformat(v))
            elif t == "int":
                row.append(int(v))
            elif t == "money":
                row.append(decimal.Decimal(v))
            else:
                row.append(v.upper() if c == "rfc" else v)
        out.append(tuple(row))
    return True, out


def register_cert_profile(profiles, register_rows):
    """Registers the certification profile tables; returns the set of files present."""
    present = set()
    if profiles and os.path.exists(os.path.join(profiles, "programas.csv")):
        present.add("programas")
    for name, schema in CERT_PROFILE.items():
        has, rows = _profile_rows(profiles, name, schema)
        if has:
            present.add(name)
        register_rows(name, schema, rows)
    return present


def _lit(d):
    return f"CAST('{d.isoformat()}' AS DATE)"


def sub_months(d, m):
    return _add_months(d, -m)


# The requirement facts: one SQL aggregate per source, portable (CASE, SUM, MIN, GROUP BY),
# parameters substituted as literals (${...}).
CERT_FACTS = {
    # facts::facts: sector and program start (programas.csv), first IMMEX pedimento.
    "programas": "SELECT rfc, MAX(CASE WHEN sector = 'sensible' THEN 1 ELSE 0 END) AS sensible, "
                 "MAX(CASE WHEN sector = 'general' THEN 1 ELSE 0 END) AS general, "
                 "MIN(fecha_inicio) AS program_start, COUNT(*) AS n_rows, "
                 "MAX(CASE WHEN (fecha_inicio IS NULL OR fecha_inicio <= ${as_of}) "
                 "AND (fecha_fin IS NULL OR fecha_fin >= ${as_of}) "
                 "AND (fecha_cancelacion IS NULL OR fecha_cancelacion > ${as_of}) THEN 1 ELSE 0 END) AS live "
                 "FROM programas WHERE rfc IS NOT NULL GROUP BY rfc",
    "first_immex": "SELECT rfc, MIN(fecha_operacion) AS first_immex FROM current_pedimentos "
                   "WHERE immex_programa IS NOT NULL AND fecha_operacion <= ${as_of} GROUP BY rfc",
    "empresas": "SELECT rfc, fecha_inicio_operaciones, capital_maquinaria_mxn, maquinaria_mxn, "
                "opinion_positiva, fecha_opinion, en_listas, csd_vigente FROM empresas",
    # IMSS headcount of the prior year's bimestres (A-VI, S-c, AA-b/AAA-b).
    "imss": "SELECT rfc, bimestre, MIN(trabajadores) AS trabajadores FROM imss "
            "WHERE bimestre LIKE '${prev_year}-%' AND trabajadores IS NOT NULL GROUP BY rfc, bimestre",
    # AA-a / AAA-a: purchases of the prior year, and those from suppliers with a positive
    # opinion issued within the window and not listed.
    "proveedores": "SELECT rfc, COUNT(*) AS n_rows, "
                   "SUM(CASE WHEN iva_mxn IS NULL THEN 1 ELSE 0 END) AS n_no_iva, "
                   "SUM(COALESCE(compras_mxn, 0)) AS total, SUM(COALESCE(compras_mxn, 0) + COALESCE(iva_mxn, 0)) AS total_iva, "
                   "SUM(CASE WHEN opinion_positiva = 1 AND en_listas = 0 AND fecha_opinion >= ${supplier_opinion_from} "
                   "AND fecha_opinion <= ${as_of} THEN COALESCE(compras_mxn, 0) ELSE 0 END) AS good, "
                   "SUM(CASE WHEN opinion_positiva = 1 AND en_listas = 0 AND fecha_opinion >= ${supplier_opinion_from} "
                   "AND fecha_opinion <= ${as_of} THEN COALESCE(compras_mxn, 0) + COALESCE(iva_mxn, 0) ELSE 0 END) AS good_iva "
                   "FROM proveedores WHERE year = ${prev_year} GROUP BY rfc",
    # AA-c / AAA-c: credits in the window, open (not paid, no convenio) and their amount.
    # (AA window: open_aa, amount_aa; AAA window: open_aaa, amount_aaa)
    "creditos": "SELECT rfc, "
                "SUM(CASE WHEN fecha >= ${credits_aa_from} AND COALESCE(pagado, 0) <> 1 AND COALESCE(convenio, 0) <> 1 THEN 1 ELSE 0 END) AS open_aa, "
                "SUM(CASE WHEN fecha >= ${credits_aa_from} AND COALESCE(pagado, 0) <> 1 AND COALESCE(convenio, 0) <> 1 "
                "THEN COALESCE(monto_mxn, 0) ELSE 0 END) AS amount_aa, "
                "SUM(CASE WHEN fecha >= ${credits_aaa_from} AND COALESCE(pagado, 0) <> 1 AND COALESCE(convenio, 0) <> 1 THEN 1 ELSE 0 END) AS open_aaa, "
                "SUM(CASE WHEN fecha >= ${credits_aaa_from} AND COALESCE(pagado, 0) <> 1 AND COALESCE(convenio, 0) <> 1 "
                "THEN COALESCE(monto_mxn, 0) ELSE 0 END) AS amount_aaa "
                "FROM creditos WHERE fecha <= ${as_of} GROUP BY rfc",
    # AA-d / AAA-d: refunds requested in the 12-month window; undated rows make it unknown.
    "devoluciones": "SELECT rfc, SUM(CASE WHEN fecha_solicitud IS NULL THEN 1 ELSE 0 END) AS undated, "
                    "SUM(CASE WHEN fecha_solicitud >= ${refunds_from} AND fecha_solicitud <= ${as_of} "
                    "THEN COALESCE(autorizado_mxn, 0) ELSE 0 END) AS auth, "
                    "SUM(CASE WHEN fecha_solicitud >= ${refunds_from} AND fecha_solicitud <= ${as_of} "
                    "THEN COALESCE(negado_mxn, 0) ELSE 0 END) AS denied FROM devoluciones GROUP BY rfc",
}


def cert_params(as_of):
    return {
        "prev_year": str(as_of.year - 1),
        "supplier_opinion_from": _lit(as_of - dt.timedelta(days=iparam("AA-a", "max_opinion_age_days"))),
        "credits_aa_from": _lit(sub_months(as_of, iparam("AA-c", "months")) + dt.timedelta(days=1)),
        "credits_aaa_from": _lit(sub_months(as_of, iparam("AAA-c", "months")) + dt.timedelta(days=1)),
        "refunds_from": _lit(window_start(as_of)),
    }


def cert_facts_sql(render, query, as_of):
    """Runs CERT_FACTS in the engine: name -> {rfc: row} (imss: {(rfc, bimestre): n})."""
    ps = cert_params(as_of)
    out = {}
    for name, sql in CERT_FACTS.items():
        for k, v in ps.items():
            sql = sql.replace("${" + k + "}", v)
        rows = query(render(sql))
        if name == "imss":
            out[name] = {(r["rfc"], r["bimestre"]): int(r["trabajadores"]) for r in rows}
        else:
            out[name] = {r["rfc"]: r for r in rows}
    return out


class Company:
    """facts::Facts of one company."""

    def __init__(self, prog, first_immex):
        self.sector = None if prog is None else "sensible" if prog["sensible"] else "general" if prog["general"] else None
        self.program_start = None if prog is None else prog["program_start"]
        self.first_immex = first_immex

    def sensitive(self):
        return self.sector == "sensible"

    def exempt_at(self, at):
        return (not self.sensitive() and self.program_start is not None
                and at < _add_months(self.program_start, iparam("B-I-d", "exempt_first_months")))


def _row(status, basis="profile", missing=False, period_start=None, amount=None):
    return {"status": status, "basis": basis, "missing": missing, "period_start": period_start, "amount": amount}


def _missing(basis="profile"):
    return _row("unknown", basis, True)


MANUAL = _row("unknown", "manual")
NA = _row("n/a", "-")


def _cents(x):
    return x.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_EVEN)


def ratio_eval(pt, t):
    """reqs::ratio_eval on the as-of point of the series (None: no point)."""
    if pt is None:
        return _row("pass", "pedimentos")
    num, den = decimal.Decimal(pt["numerator"]), decimal.Decimal(pt["denominator"])
    passes = num >= t * den
    partial = not passes and not pt["full_window"]
    r = _row("pass" if passes else "unknown" if partial else "fail", "pedimentos", partial, pt["period_start"])
    if not passes and not partial:
        r["amount"] = _cents(t * den - num)
    return r


def evaluate_req(code, rfc, f, pt, facts, present, as_of, opts):
    """reqs::evaluate_req: the status, basis, whether data is missing, period and amount of
    one requirement of one company (the measured/threshold/window texts are not ported)."""
    new_program = f is not None and f.exempt_at(as_of)
    prev = as_of.year - 1
    emp = facts["empresas"].get(rfc) if "empresas" in present else None

    def field(name):
        # Ctx::flag / money_field: None when empresas.csv, the row or the field is missing.
        return None if emp is None else emp[name]

    def ops_start():
        d = field("fecha_inicio_operaciones")
        if d is not None:
            return d, True
        if f is not None and f.first_immex is not None:
            return f.first_immex, False
        return None

    def imss(b):
        return facts["imss"].get((rfc, f"{prev}-{b:02d}")) if "imss" in present else None

    if code.startswith("S-"):
        if f is None or f.sector is None:
            return _missing()
        if f.sector == "general":
            return NA
    if code in ("A-I", "A-II", "A-VII", "A-IX", "B-I-b", "B-I-c", "B-I-f", "B-I-g", "S-d", "A-III-b", "B-I-e"):
        return MANUAL
    if code == "A-VIII":
        return NA if new_program else MANUAL
    if code == "A-III":
        pos = field("opinion_positiva")
        if pos is None:
            return _missing()
        if pos != 1:
            return _row("fail")
        d = field("fecha_opinion")
        if d is None:
            return _missing()
        return _row("pass" if 0 <= (as_of - d).days <= iparam("A-III", "max_opinion_age_days") else "fail")
    if code == "A-IV":
        v = field("en_listas")
        return _missing() if v is None else _row("pass" if v == 0 else "fail")
    if code == "A-V":
        v = field("csd_vigente")
        return _missing() if v is None else _row("pass" if v == 1 else "fail")
    if code == "A-VI":
        n = imss(6)
        if n is None:
            return MANUAL if new_program else _missing()
        return _row("pass" if n >= iparam("A-VI", "min_employees") else "fail")
    if code == "B-I-a":
        p = facts["programas"].get(rfc) if "programas" in present else None
        if p is None:
            return _missing()
        return _row("pass" if p["live"] else "fail")
    if code == "B-I-d":
        return NA if new_program else ratio_eval(pt, cert_threshold(False))
    if code == "S-b":
        return ratio_eval(pt, cert_threshold(True))
    if code == "S-a":
        s = ops_start()
        if s is None:
            return _missing()
        d, exact = s
        ok = _add_months(d, iparam("S-a", "min_months")) <= as_of
        return _row("pass" if ok else "fail" if exact else "unknown", "pedimentos+profile", not ok and not exact)
    if code == "S-c":
        need = iparam("S-c", "additional_employees")
        if opts.get("sc_headcount", "TenPlusTwenty") == "TenPlusTwenty":
            need += iparam("A-VI", "min_employees")
        counts = [imss(b) for b in (4, 5, 6)]
        if "imss" not in present or any(c is None for c in counts):
            return _missing()
        return _row("pass" if min(counts) >= need else "fail")
    if code == "S-e":
        v = field("capital_maquinaria_mxn")
        return _missing() if v is None else _row("pass" if v >= param("S-e", "min_mxn") else "fail")
    if code in ("AA-a", "AAA-a"):
        s = facts["proveedores"].get(rfc) if "proveedores" in present else None
        if s is None:
            return _missing()
        con_iva = opts.get("supplier_value") == "ConIva"
        if con_iva and s["n_no_iva"]:
            return _missing()
        total = decimal.Decimal(s["total_iva" if con_iva else "total"])
        good = decimal.Decimal(s["good_iva" if con_iva else "good"])
        return _row("pass" if good * 100 >= param(code, "min_pct") * total else "fail")
    if code in ("AA-b", "AAA-b"):
        any_pass, all_known = False, True
        s = ops_start()
        if s is None:
            all_known = False
        else:
            d, exact = s
            ok = _add_months(d, 12 * iparam(code, "min_years")) <= as_of
            any_pass |= ok
            if not ok and not exact:
                all_known = False
        counts = [imss(b) for b in range(1, 7)]
        if all(c is not None for c in counts):
            any_pass |= sum(counts) > 6 * param(code, "more_than_employees")
        else:
            all_known = False
        m = field("maquinaria_mxn")
        if m is None:
            all_known = False
        else:
            any_pass |= m > param(code, "more_than_machinery_mxn")
        st = "pass" if any_pass else "fail" if all_known else "unknown"
        return _row(st, "pedimentos+profile", st == "unknown")
    if code in ("AA-c", "AAA-c"):
        if "creditos" not in present:
            return _missing()
        frm = sub_months(as_of, iparam(code, "months")) + dt.timedelta(days=1)
        c = facts["creditos"].get(rfc)
        w = "aa" if code == "AA-c" else "aaa"
        n = int(c["open_" + w]) if c else 0
        return _row("pass" if n == 0 else "fail", period_start=frm,
                    amount=decimal.Decimal(c["amount_" + w]) if n else None)
    if code in ("AA-d", "AAA-d"):
        if "devoluciones" not in present:
            return _missing()
        c = facts["devoluciones"].get(rfc)
        if c and c["undated"]:
            return _missing()
        auth = decimal.Decimal(c["auth"]) if c else decimal.Decimal(0)
        denied = decimal.Decimal(c["denied"]) if c else decimal.Decimal(0)
        over_pct = denied * 100 > param(code, "max_denied_pct") * auth
        over_cap = denied > param(code, "max_denied_mxn")
        fail = (over_pct and over_cap) if opts.get("refunds") == "BothExceeded" else (over_pct or over_cap)
        return _row("fail" if fail else "pass", period_start=window_start(as_of))
    raise ValueError(f"requirement {code} has no evaluation")


def cert_assessment(facts, points, present, as_of, full_series=True, opts=None):
    """assessment::evaluate -> (rows, verdicts): one row per company and requirement
    (rfc, verdict, rule_version, modality, code, status, basis, missing, amount, citation,
    period_start). full_series: companies of the whole monthly series (the
    cert_assessment.parquet the audit writes), else of the as-of point only (what the
    registry's CERT-A/AA/AAA findings see). facts: cert_facts_sql's result."""
    opts = opts or {}
    prog, first = facts["programas"] if "programas" in present else {}, facts["first_immex"]
    companies = {p["rfc"] for p in points if full_series or p["period_end"] == as_of}
    companies |= set(prog) | set(first)
    if "empresas" in present:
        companies |= set(facts["empresas"])
    at = {p["rfc"]: p for p in points if p["period_end"] == as_of}
    v = version_in_force(as_of) if opts.get("rule_version") is None else \
        next(x for x in CERT_VERSIONS if x["id"].lower() == opts["rule_version"].lower())
    rows, verdicts = [], {}
    for rfc in sorted(companies):
        f = Company(prog.get(rfc), first.get(rfc)["first_immex"] if rfc in first else None) \
            if (rfc in prog or rfc in first) else None
        mine = []
        for d in CERT_REQS:
            if v is None:
                e, cite = _missing("rules"), "-"
            else:
                treatment, cite = resolve(v, d["code"], d["citation"])
                e = evaluate_req(d["code"], rfc, f, at.get(rfc), facts, present, as_of, opts) \
                    if treatment == "cite" else MANUAL if treatment == "manual" else NA
            mine.append(dict(e, rfc=rfc, modality=d["modality"], code=d["code"], citation=cite,
                             rule_version=v["id"] if v else "none"))

        def ok(m):
            return not any(r["modality"] == m and (r["status"] == "fail" or (
                r["status"] == "unknown" and (r["basis"] != "manual" or opts.get("manual_blocks_verdict"))))
                for r in mine)
        verdict = "AAA" if ok("A") and ok("AAA") else "AA" if ok("A") and ok("AA") else "A" if ok("A") else "none"
        verdicts[rfc] = verdict
        for r in mine:
            r["verdict"] = verdict
        rows += mine
    return rows, verdicts


def cert_findings(rows):
    """Assessment::findings for CERT-A, CERT-AA, CERT-AAA: one per failing row and per
    row unknown for lack of data (not manual); no amount (it is in the assessment)."""
    return [{"check_code": "CERT-" + r["modality"], "rfc": r["rfc"], "pedimento_id": None, "partida": None,
             "related_pedimento_id": None, "fraccion": None, "quantity": None, "amount": None,
             "igi": None, "iva": None, "ieps": None}
            for r in rows if r["status"] == "fail" or (r["status"] == "unknown" and r["basis"] != "manual")]


def is_business_day(d):
    return d.weekday() < 5 and d not in holidays(d.year)


def business_days_before(d, n):
    while n > 0:
        d -= dt.timedelta(days=1)
        if is_business_day(d):
            n -= 1
    return d


def business_days_between(a, b):
    n = 0
    while a < b:
        a += dt.timedelta(days=1)
        n += is_business_day(a)
    return n


def renewal(modality, start, notice, as_of):
    """cert_renewal::assess -> (state, expires, severity of the finding or None)."""
    v = version_in_force(start)
    if v is None:
        return "unknown", None, "low"
    months = int(v.get({"A": "vigencia_a_months", "AA": "vigencia_aa_months",
                        "AAA": "vigencia_aaa_months"}.get(modality, ""), None) or 12)
    expires = _add_months(start, months) - dt.timedelta(days=1)
    opens = business_days_before(expires, int(v["renewal_days"]))
    if notice is not None and opens <= notice <= expires:
        return "renewed", expires, None
    if as_of > expires:
        return "expired", expires, "high"
    if as_of >= opens:
        return "due", expires, "medium"
    return "in_force", expires, None


RENEWAL_SQL = ("SELECT rfc, modalidad, fecha_autorizacion, fecha_renovacion, fecha_aviso_renovacion "
               "FROM certificacion WHERE rfc IS NOT NULL AND modalidad IS NOT NULL AND fecha_autorizacion IS NOT NULL")


def renewal_findings(query, as_of):
    """cert_renewal::plan: one CERT-RENEWAL finding per certification due, expired or of
    unknown vigencia at the as-of date."""
    out = []
    for r in query(RENEWAL_SQL):
        auth = r["fecha_autorizacion"]
        start = max(r["fecha_renovacion"] or auth, auth)
        state, _, sev = renewal(r["modalidad"], start, r["fecha_aviso_renovacion"], as_of)
        if sev is not None:
            out.append({"check_code": "CERT-RENEWAL", "rfc": r["rfc"], "pedimento_id": None, "partida": None,
                        "related_pedimento_id": None, "fraccion": None, "quantity": None, "amount": None,
                        "igi": None, "iva": None, "ieps": None, "severity": sev})
    return out


def parse_options(text):
    """CertOptions::describe() (the `options` column of cert_assessment.parquet) -> the
    options dict of cert_assessment, so the engine applies the options the audit ran with."""
    out = {}
    for part in (text or "").split("; "):
        k, _, v = part.partition("=")
        if k == "rules":
            out["rule_version"] = None if v == "in force on the as-of date" else v
        elif k == "manual_blocks_verdict":
            out[k] = v == "true"
        elif k:
            out[k] = v
    return out


ASSESSMENT_KEY = ["rfc", "verdict", "rule_version", "modality", "code", "status", "basis", "citation"]


def compare_assessment(label, engine, product, mine):
    """The product's cert_assessment rows vs the engine's: same rows, statuses, verdicts,
    citations, missing-data flags and exact amounts."""
    def k(r, missing):
        amt = r["amount"]
        return tuple(str(r[c]) for c in ASSESSMENT_KEY) + (
            bool(missing), "" if amt is None else str(_cents(decimal.Decimal(str(amt)))))
    a = sorted(k(r, r["missing"] is not None) for r in product)
    b = sorted(k(r, r["missing"]) for r in mine)
    if a == b:
        return len(a)
    import sys
    print(f"{label}: cert_assessment differs between the product and {engine}", file=sys.stderr)
    for r in sorted(set(a) - set(b))[:20]:
        print("  only product:", r, file=sys.stderr)
    for r in sorted(set(b) - set(a))[:20]:
        print(f"  only {engine}:", r, file=sys.stderr)
    return None
