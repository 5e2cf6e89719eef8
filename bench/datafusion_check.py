#!/usr/bin/env python3
"""Portability check on Apache DataFusion (the engine under Ballista, for users who outgrow one
machine): run the same queries/views/*.sql and queries/*.sql over the same Parquet dataset and
compare the findings with pedimento-audit's findings.parquet.

    pip install datafusion          # brings pyarrow
    python3 bench/datafusion_check.py --dataset DS --audit AUDIT_DIR [--profiles DIR]

Shim (documented in docs/portability.md): tables are registered from the year=*/<table>.parquet
files and the vendored catalog CSVs; ${as_of}/${expiring_days} are substituted as in the Rust
runner. Everything else is the unchanged SQL text.
"""
import argparse, glob, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import crossengine  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--audit", required=True)
    ap.add_argument("--profiles")
    ap.add_argument("--expiring-days", type=int, default=60)
    a = ap.parse_args()
    import datafusion
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    ctx = datafusion.SessionContext()

    def reg(name, table):
        batches = table.to_batches() or [pa.RecordBatch.from_pylist([], schema=table.schema)]
        ctx.register_record_batches(name, [batches])
    for t in ["pedimentos", "partidas", "identificadores", "descargos", "conflicts"]:
        files = sorted(glob.glob(os.path.join(a.dataset, "year=*", f"{t}.parquet")))
        table = pa.concat_tables([pq.read_table(f) for f in files])
        reg(t, table)

    def csv_table(path, ints, dates=()):
        opts = pacsv.ConvertOptions(column_types={}, strings_can_be_null=True)
        tb = pacsv.read_csv(path, convert_options=opts)
        cols = []
        for name in tb.column_names:
            c = tb.column(name).cast(pa.string())
            if name in ints:
                c = c.cast(pa.int32())
            elif name in dates:
                c = c.cast(pa.date32())
            cols.append(c)
        return pa.table(cols, names=tb.column_names)

    for name, ints in [("plazos", ["meses", "por_programa"]),
                       ("discharge_claves", ["tipo_operacion", "counts_in_ratio", "requires_immex"])]:
        reg(name, csv_table(os.path.join(ROOT, "src/catalogs", name + ".csv"), ints))
    prog = os.path.join(a.profiles or "", "programas.csv")
    schema = pa.schema([("rfc", pa.string()), ("programa", pa.string()), ("fecha_inicio", pa.date32()),
                        ("fecha_fin", pa.date32()), ("fecha_cancelacion", pa.date32()), ("prorroga", pa.int32()),
                        ("sector", pa.string())])
    if a.profiles and os.path.exists(prog):
        t = csv_table(prog, ["prorroga"], ["fecha_inicio", "fecha_fin", "fecha_cancelacion"]).select(schema.names)
        t = t.cast(schema)
    else:
        t = schema.empty_table()
    reg("programas", t)

    findings = pq.read_table(os.path.join(a.audit, "findings.parquet")).to_pylist()
    as_of = str(findings[0]["as_of"]) if findings else crossengine.dataset_max_date(a.dataset)
    views, checks = crossengine.registry_order()
    for name, f in views:
        sql = crossengine.render(open(os.path.join(ROOT, "queries", f)).read(), as_of, a.expiring_days)
        try:
            reg(name, ctx.sql(sql).to_arrow_table())
        except Exception as e:
            print(f"datafusion: queries/{f} failed: {e}", file=sys.stderr)
            return 1
    rows = []
    for f in checks:
        sql = crossengine.render(open(os.path.join(ROOT, "queries", f)).read(), as_of, a.expiring_days)
        try:
            batches = ctx.sql(sql).collect()
        except Exception as e:
            print(f"datafusion: queries/{f} failed: {e}", file=sys.stderr)
            return 1
        for b in batches:
            rows += b.to_pylist()
    codes = {os.path.splitext(f)[0] for f in checks}
    mine = sorted(crossengine.key(r) for r in findings if r["check_code"] in codes)
    theirs = sorted(crossengine.key(r) for r in rows)
    if mine != theirs:
        print("datafusion: findings differ", file=sys.stderr)
        for r in sorted(set(mine) - set(theirs)):
            print("  only polars:", r, file=sys.stderr)
        for r in sorted(set(theirs) - set(mine)):
            print("  only datafusion:", r, file=sys.stderr)
        return 1
    print(f"datafusion {datafusion.__version__}: {len(checks)} SQL checks + {len(views)} views; "
          f"{len(mine)} findings identical to polars (as of {as_of})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
