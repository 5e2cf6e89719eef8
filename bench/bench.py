#!/usr/bin/env python3
"""Side-by-side benchmark: pedimento-audit (release) vs DuckDB on the same generated files.

    python3 bench/bench.py --sizes 1000000,10000000 [--ingest-max 10000000] [--batch 1] [--repeat 3]

For each size N (partidas):
  * ours:   `examples/bench gen` writes the Data Stage files, `bench ingest --reuse` times their
            ingest in a fresh process, `bench audit --reuse` the full audit in another;
            above --ingest-max only the audit is timed (`bench audit`, dataset written directly).
  * DuckDB: ingest = `COPY (SELECT * FROM read_csv(<file>, delim='|', header=true, explicit
            columns and types, encoding latin-1)) TO <parquet>` for every Data Stage file our
            ingest parses (same files); audit = the same queries/views/*.sql and queries/*.sql
            over our Parquet dataset (bench/crossengine.py registration).
  * each engine runs in its own process; peak RSS = the child's ru_maxrss.
  * before each run its input (Data Stage files or dataset) is read once: both engines
    start with it in the page cache.
  * --repeat R runs of each (engine, phase), the engines alternating; the median is reported
    with the min-max (shared VMs drift: one engine's run can take 2x another's minutes later).
Writes bench/results.md (table + machine description) and prints it.
"""
import argparse, glob, json, os, platform, resource, shutil, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))

MONEY = {"ValorAduana", "ValorComercial", "ValorDolares", "ImportePago", "TotalFletes", "TotalSeguros",
         "TotalEmbalajes", "TotalIncrementables", "TotalDeducibles"}
QTY = {"CantidadUMComercial", "CantidadUMTarifa", "PrecioUnitario", "TipoCambio", "TasaContribucion",
       "MercanciaDescargada", "PesoBrutoMercancia"}
USED = ["501", "506", "507", "512", "551", "554", "556", "557", "701", "Sel"]


def duck_ingest(datastage_dir, out_dir):
    import duckdb
    con = duckdb.connect()
    os.makedirs(out_dir, exist_ok=True)
    rows = 0
    for f in sorted(glob.glob(os.path.join(datastage_dir, "*.asc"))):
        rtype = f.rsplit("_", 1)[1].split(".")[0]
        if rtype not in USED:
            continue
        with open(f, "rb") as fh:
            header = fh.readline().decode("latin-1").strip().rstrip("|").split("|")
        cols = {}
        for h in header:
            cols[h] = "DECIMAL(18,2)" if h in MONEY else "DECIMAL(18,5)" if h in QTY else "VARCHAR"
        cols["_trail"] = "VARCHAR"  # rows end with '|'
        spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in cols.items()) + "}"
        out = os.path.join(out_dir, os.path.basename(f) + ".parquet")
        con.execute(f"""COPY (SELECT * EXCLUDE (_trail) FROM read_csv('{f}', delim='|', header=true,
            columns={spec}, encoding='latin-1', quote='', escape='')) TO '{out}' (FORMAT parquet)""")
        rows += con.execute(f"SELECT COUNT(*) FROM read_parquet('{out}')").fetchone()[0]
    return rows


def duck_audit(dataset, profiles):
    import duckdb
    import crossengine
    con = duckdb.connect()
    as_of = crossengine.dataset_max_date(dataset)
    return len(crossengine.run_all(con, dataset, profiles, as_of, 60))


def worker(argv):
    t = time.time()
    if argv[0] == "ingest":
        rows = duck_ingest(argv[1], argv[2])
    else:
        rows = duck_audit(argv[1], argv[2])
    secs = time.time() - t
    hwm = next((int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")), 0)
    print(json.dumps({"rows": rows, "seconds": secs, "peak_rss_mb": hwm / 1024.0}))


def warm(path):
    """Reads every file under path once, so each timed run starts with its input in the
    page cache (a cold 10M Data Stage read took 30-80 s at this disk's 40-100 MB/s and
    made either engine's run an outlier)."""
    # This VM's kernel (DAMON, action pageout) drops cached pages idle for 60 s: a pass
    # that read from disk for longer than that lost its first files again, so read until
    # a pass is served from memory.
    size = sum(os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(path) for n in names)
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if size > ram // 2:
        # Cannot stay cached (100M: 31 GB of text, 24 GB RAM): every engine reads from disk,
        # and four passes over it took longer than the runs.
        print(f"not warming {path}: {size / 2**30:.1f} GiB, more than half the RAM", flush=True)
        return
    for _ in range(4):
        t = time.time()
        for d, _, names in os.walk(path):
            for n in names:
                with open(os.path.join(d, n), "rb") as fh:
                    while fh.read(8 << 20):
                        pass
        if time.time() - t < 8:
            break


def child(cmd):
    """Runs cmd, returns (stdout, peak RSS MB of that child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of RUSAGE_CHILDREN is the max over children; each child here is bigger or
    # the first, so report the child's own peak from its JSON when it gives one.
    return p.stdout, max(peak, before) / 1024.0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        return worker(sys.argv[2:])
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--ingest-max", type=int, default=10000000)
    ap.add_argument("--work", default=os.path.join(ROOT, "out/bench"))
    ap.add_argument("--batch", type=int, default=0, help="ours: audit N companies at a time (0 = all)")
    ap.add_argument("--memory-mb", type=int, default=0, help="ours: ingest memory budget (0 = the CLI default)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per engine and phase, interleaved; the median is reported")
    ap.add_argument("--bom-share", type=float, default=0.0,
                    help="share of the generated companies that are manufacturers with a bill of materials "
                         "(bom.csv, desperdicios.csv; 1.0 = a BOM on every company, issue #18); 0.0 = the plain history")
    ap.add_argument("--repeat-large", type=int, default=1,
                    help="runs per engine and phase above --large-from partidas (a 100M run takes ~10 min per engine)")
    ap.add_argument("--large-from", type=int, default=20000000)
    ap.add_argument("--duck-audit-max", type=int, default=0,
                    help="skip DuckDB's audit above this many partidas (0 = never skip): at 100M it spilled "
                         "~47 GB of temp files until the disk was full and the run died (bench/results.md)")
    ap.add_argument("--keep-text", action="store_true",
                    help="do not delete the Data Stage text at the end (for bench/incremental.py --datastage)")
    ap.add_argument("--reuse-text", action="store_true",
                    help="keep the Data Stage text of an earlier run of the same size in --work "
                         "(datastage-N and profiles; same seed and options) instead of generating it again")
    ap.add_argument("--build-dir", default=os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")))
    a = ap.parse_args()
    exe = os.path.join(a.build_dir, "release", "examples", "bench")
    cli = os.path.join(a.build_dir, "release", "pedimento-audit")
    for b in (exe, cli):
        if not os.path.exists(b):
            raise SystemExit(f"build first: cargo build --release --bin pedimento-audit --example bench (looked for {b})")
    results = []
    for n in [int(x) for x in a.sizes.split(",")]:
        ingest = n <= a.ingest_max
        stage_dir = os.path.join(a.work, f"datastage-{n}")
        reuse = a.reuse_text and os.path.isdir(stage_dir) and os.path.isdir(os.path.join(a.work, "profiles"))
        if ingest and reuse:
            print(f"reusing {stage_dir} (--reuse-text)", flush=True)
        elif ingest:
            # Write the Data Stage files once with the streaming generator (company by company,
            # bounded memory; byte-identical to the in-memory one, tests/generate_stream.rs);
            # each run below ingests them in a fresh process (its peak RSS is the ingest's own;
            # the input is in the page cache for both). 20 companies up to 10 M partidas (as in
            # the earlier tables), then 500 k partidas per company.
            gen = os.path.join(a.work, f"gen-{n}")
            shutil.rmtree(gen, ignore_errors=True)
            child([cli, "generate", "--out", gen, "--seed", "2024", "--companies", str(companies(n)),
                   "--start-year", "2019", "--years", "5", "--partidas", str(n), "--inject", INJECT,
                   "--format", "datastage", "--bom-share", str(a.bom_share)])
            for src, dst in ((os.path.join(gen, "datastage"), os.path.join(a.work, f"datastage-{n}")),
                             (os.path.join(gen, "profiles"), os.path.join(a.work, "profiles"))):
                shutil.rmtree(dst, ignore_errors=True)
                os.rename(src, dst)
            shutil.rmtree(gen, ignore_errors=True)
        else:
            child([exe, "audit", "--partidas", str(n), "--work", a.work, "--batch", str(a.batch),
                   "--bom-share", str(a.bom_share)])
        mem = ["--memory-mb", str(a.memory_mb)] if a.memory_mb else []
        runs = {}  # (engine, phase) -> list of result dicts
        add = lambda r: runs.setdefault((r["engine"], r["phase"]), []).append(r)
        ours_engine = "pedimento-audit"
        ds = os.path.join(a.work, f"dataset-{n}")
        # The engines alternate, run after run: a machine whose speed drifts (shared VMs
        # here varied by 2x within minutes) slows both alike, and the median is reported.
        repeat = a.repeat if n < a.large_from else a.repeat_large
        for rep in range(repeat):
            if ingest:
                stage = os.path.join(a.work, f"datastage-{n}")
                warm(stage)
                load = os.getloadavg()[0]
                out, _ = child([exe, "ingest", "--reuse", "--partidas", str(n), "--work", a.work] + mem)
                for o in (json.loads(l) for l in out.splitlines() if l.startswith("{")):
                    add(dict(o, engine=ours_engine, load=load))
                warm(stage)
                load = os.getloadavg()[0]
                out, _ = child([sys.executable, __file__, "--worker", "ingest",
                                stage, os.path.join(a.work, f"duck-{n}")])
                d = json.loads(out.strip().splitlines()[-1])
                add({"engine": "duckdb", "phase": "ingest_datastage", "rows": d["rows"],
                     "seconds": d["seconds"], "peak_rss_mb": d["peak_rss_mb"], "load": load})
                if n >= a.large_from and rep == repeat - 1:
                    # Disk: a 100M history is 33 GB of text and two ~10 GB Parquet copies; the
                    # audits below read only our dataset.
                    for d in (f"duck-{n}",) if a.keep_text else (f"datastage-{n}", f"duck-{n}"):
                        shutil.rmtree(os.path.join(a.work, d), ignore_errors=True)
            # The audit in a fresh process that only audits.
            warm(ds)
            load = os.getloadavg()[0]
            out, _ = child([exe, "audit", "--reuse", "--partidas", str(n), "--work", a.work, "--batch", str(a.batch)])
            audit = [json.loads(l) for l in out.splitlines() if l.startswith("{")][-1]
            add(dict(audit, engine=ours_engine, load=load))
            if a.duck_audit_max and n > a.duck_audit_max:
                print(f"DuckDB audit skipped above {a.duck_audit_max:,} partidas (--duck-audit-max)", flush=True)
            else:
                warm(ds)
                load = os.getloadavg()[0]
                out, _ = child([sys.executable, __file__, "--worker", "audit", ds, os.path.join(a.work, "profiles")])
                d = json.loads(out.strip().splitlines()[-1])
                add({"engine": "duckdb", "phase": "audit_all_checks", "rows": audit["rows"],
                     "seconds": d["seconds"], "peak_rss_mb": d["peak_rss_mb"], "findings": d["rows"], "load": load})
            print(json.dumps({k: [round(r["seconds"], 2) for r in v] for k, v in
                              ((f"{e} {p}", v) for (e, p), v in runs.items())}), flush=True)
        for (engine, phase), rs in runs.items():
            secs = sorted(r["seconds"] for r in rs)
            med = secs[len(secs) // 2] if len(secs) % 2 else (secs[len(secs) // 2 - 1] + secs[len(secs) // 2]) / 2
            label = engine + (f" (batch {a.batch})" if a.batch and engine == ours_engine and phase.startswith("audit") else "")
            r = {"engine": label, "phase": phase, "size": n, "rows": rs[0]["rows"], "seconds": med,
                 "min": secs[0], "max": secs[-1], "runs": len(secs), "rows_per_s": rs[0]["rows"] / med,
                 "peak_rss_mb": max(x["peak_rss_mb"] for x in rs),
                 "load_min": min(x["load"] for x in rs), "load_max": max(x["load"] for x in rs),
                 "per_run": [round(x["seconds"], 2) for x in rs]}
            for k in ("shards", "findings", "batches"):
                if k in rs[0]:
                    r[k] = rs[0][k]
            results.append(r)
            print(json.dumps(r), flush=True)
        # Each scale's data goes before the next (disk).
        for d in (f"duck-{n}", f"dataset-{n}") if a.keep_text else (f"datastage-{n}", f"duck-{n}", f"dataset-{n}"):
            shutil.rmtree(os.path.join(a.work, d), ignore_errors=True)
        write_results(results, a.repeat, a.bom_share)
    write_results(results, a.repeat, a.bom_share)


# The generator's violation kinds (all of them, as examples/bench.rs Violation::ALL).
INJECT = "expired,excess,unit,virtual-unpaired,virtual-mismatch,virtual-late"


def companies(n):
    return max(20, n // 500_000)


def write_results(results, repeat, bom_share=0.0):
    """Writes the table at the top of bench/results.md; the earlier tables of the file stay
    below it (the first call of a run moves them under a heading)."""
    import duckdb
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except Exception:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = ["# Benchmark results", "",
             f"Machine: {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.platform()}; "
             f"DuckDB {duckdb.__version__}; pedimento-audit release build. Produced by `python3 bench/bench.py`.",
             f"Seconds are the median of up to {repeat} runs per engine and phase (runs column), the engines "
             "alternating run after run (min-max in brackets); peak RSS is the largest of the runs; load = the "
             "machine's 1-minute load average at the start of the runs (min-max; 2 cores, shared with other builds).",
             f"Generated history: `--bom-share {bom_share}` ({'no manufacturers' if bom_share == 0 else f'{bom_share:.0%} of the companies are manufacturers with a bill of materials'}).",
             "", "| size (partidas) | companies | phase | engine | rows | runs | seconds (min-max) | us/partida | peak RSS MB | load | us/DuckDB time |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        other = [x for x in results if x["size"] == r["size"] and x["phase"] == r["phase"] and x is not r]
        ratio = ""
        if r["engine"].startswith("pedimento-audit") and other:
            ratio = f"{r['seconds'] / other[0]['seconds']:.2f}"
        lines.append(f"| {r['size']:,} | {companies(r['size'])} | {r['phase']} | {r['engine']} | {r['rows']:,} | {r['runs']} | "
                     f"{r['seconds']:.2f} ({r['min']:.2f}-{r['max']:.2f}) | {r['seconds'] * 1e6 / r['size']:.2f} | "
                     f"{r['peak_rss_mb']:,.0f} | {r['load_min']:.1f}-{r['load_max']:.1f} | {ratio} |")
    text = "\n".join(lines) + "\n"
    path = os.path.join(ROOT, "bench", "results.md")
    global EARLIER
    if EARLIER is None:
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
        old = old.split("\n", 1)[1] if old.startswith("# Benchmark results") else old
        EARLIER = "\n## Earlier tables\n" + old if old.strip() else ""
    with open(path, "w") as f:
        f.write(text + EARLIER)
    print(text)


EARLIER = None


if __name__ == "__main__":
    main()
