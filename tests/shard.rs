//! A sharded ingest (input larger than the memory budget, `src/ingest/shard.rs`) gives the
//! same dataset, rejects, accounting and findings as the in-memory ingest of the same
//! input, also when it merges into an existing dataset.

mod common;
use common::*;
use pedaudit::checks::AuditOptions;
use pedaudit::generate::{self, Config, Violation};
use pedaudit::ingest::{self, IngestOptions, IngestReport};
use std::fs;
use std::path::{Path, PathBuf};

fn run(inputs: &[PathBuf], root: &Path, memory_mb: Option<u64>, force: bool) -> IngestReport {
    ingest::run(
        inputs,
        root,
        &IngestOptions {
            force,
            memory_mb,
            ..Default::default()
        },
    )
    .unwrap()
}

/// Every row of a table over all years, formatted and sorted (shards change row order,
/// not content).
fn sorted(root: &Path, table: &str) -> Vec<String> {
    let mut v: Vec<String> = all_rows(root, table)
        .into_iter()
        .map(|r| format!("{r:?}"))
        .collect();
    v.sort();
    v
}

fn rejects_of(root: &Path, r: &IngestReport) -> Vec<String> {
    let mut v: Vec<String> = rejects(root, &r.run_id)
        .into_iter()
        .map(|r| format!("{r:?}"))
        .collect();
    v.sort();
    v
}

/// Per-file accounting, without the run-specific parts.
fn stats(r: &IngestReport) -> Vec<String> {
    let mut v: Vec<String> = r
        .files
        .iter()
        .map(|f| {
            format!(
                "{} {} {} read={} acc={} rej={} {:?} sup={} dup={} blank={} {:?} {} {}",
                f.file,
                f.layout,
                f.record_type,
                f.rows_read,
                f.accepted,
                f.rejected,
                f.rejected_by_reason,
                f.superseded,
                f.duplicates,
                f.blank_lines,
                f.skipped,
                f.bytes,
                f.sha256
            )
        })
        .collect();
    v.sort();
    v
}

fn years(r: &IngestReport) -> Vec<String> {
    r.years
        .iter()
        .map(|(y, c)| {
            format!(
                "{y} peds={} parts={} new={} ident={} repl={}",
                c.pedimentos, c.partidas, c.new, c.identical, c.replaced
            )
        })
        .collect()
}

fn assert_same_dataset(a: &Path, b: &Path) {
    assert_eq!(dataset_years(a), dataset_years(b));
    for t in TABLES {
        let (x, y) = (sorted(a, t), sorted(b, t));
        assert_eq!(x.len(), y.len(), "{t}: row counts differ");
        assert_eq!(x, y, "{t}: rows differ");
    }
}

fn dataset_years(root: &Path) -> Vec<i32> {
    pedaudit::dataset::years(root)
}

fn findings(root: &Path, profiles: &Path) -> String {
    let opts = AuditOptions {
        profiles: Some(profiles.to_path_buf()),
        ..Default::default()
    };
    let (_ctx, df) = audit(root, opts, &[]);
    render(&df)
}

/// A generated history with every injected violation, plus the hand-made Data Stage
/// fixture (rejects of every kind, Latin-1, a rectificación, descargos, a record type
/// not used) as a second request.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let h = generate::generate(&Config {
        seed: 11,
        companies: 3,
        years: 3,
        partidas: 4000,
        inject: Violation::ALL.to_vec(),
        ..Default::default()
    });
    generate::writers::write_datastage(&h, &dir.join("in")).unwrap();
    generate::writers::write_profiles(&h, &dir.join("profiles")).unwrap();
    let fx = dir.join("fixture");
    copy_dir(&root().join("fixtures/datastage"), &fx);
    vec![dir.join("in"), fx]
}

#[test]
fn sharded_ingest_equals_in_memory_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ins = inputs(d);
    let whole = run(&ins, &d.join("a"), None, false);
    let sharded = run(&ins, &d.join("b"), Some(1), false);
    assert_eq!(
        whole.shards, 0,
        "the default budget parses this input at once"
    );
    assert!(sharded.shards >= 4, "{} shards", sharded.shards);
    assert!(whole.rejected > 0, "the fixture has rejects");
    assert_eq!(stats(&whole), stats(&sharded));
    assert_eq!(years(&whole), years(&sharded));
    assert_eq!(
        (
            whole.rows_read,
            whole.accepted,
            whole.rejected,
            whole.superseded
        ),
        (
            sharded.rows_read,
            sharded.accepted,
            sharded.rejected,
            sharded.superseded
        )
    );
    assert_accounting(&sharded);
    assert_eq!(
        rejects_of(&d.join("a"), &whole),
        rejects_of(&d.join("b"), &sharded)
    );
    assert_same_dataset(&d.join("a"), &d.join("b"));
    assert!(
        leftovers(&d.join("b")).is_empty(),
        "{:?}",
        leftovers(&d.join("b"))
    );
    let fa = findings(&d.join("a"), &d.join("profiles"));
    assert!(fa.lines().count() >= 18, "{fa}");
    assert_eq!(fa, findings(&d.join("b"), &d.join("profiles")));
}

/// Rewrites one column of a Data Stage file on the data lines `pick` selects (by index),
/// and drops the lines `drop` selects.
fn edit(path: &Path, column: &str, pick: impl Fn(usize) -> bool, drop: impl Fn(usize) -> bool) {
    // Bytes, not text: the generator writes Latin-1, as SAT does.
    let bytes = fs::read(path).unwrap();
    let mut lines = bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty());
    let header = lines.next().unwrap();
    let c = header
        .split(|b| *b == b'|')
        .position(|n| n == column.as_bytes())
        .unwrap();
    let mut out = header.to_vec();
    out.push(b'\n');
    for (i, l) in lines.enumerate() {
        if drop(i) {
            continue;
        }
        let mut f: Vec<Vec<u8>> = l.split(|b| *b == b'|').map(<[u8]>::to_vec).collect();
        if pick(i) {
            f[c] = [f[c].trim_ascii(), b"0"].concat();
        }
        out.extend(f.join(&b'|'));
        out.push(b'\n');
    }
    fs::write(path, out).unwrap();
}

#[test]
fn sharded_merge_into_existing_dataset_equals_in_memory_merge() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ins = inputs(d);
    for root in ["a", "b"] {
        run(&ins[..1], &d.join(root), None, false);
    }
    // A later delivery of the same request: some partidas change value (their
    // pedimentos are replaced, the old headers go to conflicts), some are missing (a
    // pedimento without any partida keeps the stored ones).
    let later = d.join("later");
    copy_dir(&ins[0], &later);
    let p551 = fs::read_dir(&later)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("_551.asc"))
        .unwrap();
    edit(&p551, "ValorAduana", |i| i % 97 == 0, |i| i % 5 == 1);
    // With a history of a later year: years written fresh and years merged, in one run.
    gen_datastage(&d.join("more"), 9, 2024, 1, 800);
    let second = [later, d.join("more")];
    let a = run(&second, &d.join("a"), None, false);
    let b = run(&second, &d.join("b"), Some(1), false);
    assert!(b.shards >= 4);
    assert!(
        a.years
            .values()
            .any(|c| c.new > 0 && c.identical + c.replaced == 0)
    );
    assert!(a.years.values().any(|c| c.replaced > 0), "{:?}", years(&a));
    assert_eq!(years(&a), years(&b));
    assert_eq!(stats(&a), stats(&b));
    assert_same_dataset(&d.join("a"), &d.join("b"));
    assert_eq!(
        findings(&d.join("a"), &d.join("profiles")),
        findings(&d.join("b"), &d.join("profiles"))
    );
}

/// Pedimentos that the parse looks up from another row are kept in one shard: a 701
/// without FechaOperacionAnterior/DocumentoAnterior takes the date and clave of the
/// pedimento it rectifies from that pedimento's 501; a 512 without FechaOperacionOrig
/// takes the original's year from its 501. Here each pair is at opposite ends of the
/// key range, so plain ranges would put them in different shards.
#[test]
fn linked_pedimentos_share_a_shard() {
    let n = 3000;
    let nums: Vec<String> = (0..n).map(|i| format!("{}", 6_000_000 + i)).collect();
    let key = |num: &str| {
        vec![
            ("Patente", "3953".to_string()),
            ("Pedimento", num.to_string()),
            ("SeccionAduanera", "240".to_string()),
        ]
    };
    let line = |h: &str, num: &str, over: &[(&str, &str)]| {
        let mut v = key(num);
        v.extend(over.iter().map(|(k, x)| (*k, x.to_string())));
        let v: Vec<(&str, &str)> = v.iter().map(|(k, x)| (*k, x.as_str())).collect();
        ds_line(h, &v)
    };
    let (r1, ret) = (&nums[n - 1], &nums[n - 2]);
    let mut l501 = vec![];
    let mut l551 = vec![];
    for num in &nums {
        let (clave, tipo) = if num == r1 {
            ("R1", "1")
        } else if num == ret {
            ("RT", "2")
        } else {
            ("IN", "1")
        };
        l501.push(line(
            H501,
            num,
            &[
                ("TipoOperacion", tipo),
                ("ClaveDocumento", clave),
                ("Rfc", "ABC010203XY1"),
                ("TipoPedimento", "1"),
                ("FechaPagoReal", "2024-03-05 10:00:00"),
            ],
        ));
        l551.push(line(
            H551,
            num,
            &[
                ("Fraccion", "84713001"),
                ("SecuenciaFraccion", "1"),
                ("ValorAduana", "1000.00"),
                ("ValorComercial", "1000.00"),
                ("ValorDolares", "58.65"),
                ("CantidadUMTarifa", "10.000"),
                ("UnidadMedidaTarifa", "6"),
                ("FechaPagoReal", "2024-03-05 10:00:00"),
            ],
        ));
    }
    // The anterior is paid on 2024-01-10 (its operation date), the R1 later.
    l501[1] = l501[1].replace("2024-03-05 10:00:00", "2024-01-10 09:00:00");
    l551[1] = l551[1].replace("2024-03-05 10:00:00", "2024-01-10 09:00:00");
    let l701 = vec![line(
        H701,
        r1,
        &[
            ("ClaveDocumento", "R1"),
            ("PedimentoAnterior", &nums[1]),
            ("PatenteAnterior", "3953"),
            ("SeccionAduaneraAnterior", "240"),
            ("FechaPagoReal", "2024-03-05 10:00:00"),
        ],
    )];
    let l512 = vec![line(
        H512,
        ret,
        &[
            ("PedimentoOriginal", &nums[2]),
            ("PatenteAduanalOrig", "3953"),
            ("SeccionAduaneraDespOrig", "240"),
            ("FraccionOriginal", "84713001"),
            ("UnidadMedida", "6"),
            ("MercanciaDescargada", "4"),
            ("FechaPagoReal", "2024-03-05 10:00:00"),
        ],
    )];
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir_all(&input).unwrap();
    for (rt, lines) in [("501", l501), ("551", l551), ("701", l701), ("512", l512)] {
        let (name, bytes) = ds_file("2400001", rt, &lines);
        fs::write(input.join(name), bytes).unwrap();
    }
    let a = run(
        std::slice::from_ref(&input),
        &dir.path().join("a"),
        None,
        false,
    );
    let b = run(
        std::slice::from_ref(&input),
        &dir.path().join("b"),
        Some(1),
        false,
    );
    assert!(b.shards >= 3, "{} shards", b.shards);
    assert_eq!((a.rejected, b.rejected), (0, 0));
    assert_eq!(stats(&a), stats(&b));
    assert_same_dataset(&dir.path().join("a"), &dir.path().join("b"));
    let peds = all_rows(&dir.path().join("b"), "pedimentos");
    let rect = peds
        .iter()
        .find(|p| p["numero"] == *r1)
        .expect("the R1 is stored");
    assert_eq!(
        rect["clave"], "IN",
        "the clave of the pedimento it rectifies"
    );
    assert_eq!(rect["fecha_operacion"], "2024-01-10");
    let desc = all_rows(&dir.path().join("b"), "descargos");
    assert_eq!(desc.len(), 1);
    assert_eq!(desc[0]["original_id"], format!("2024-240-3953-{}", nums[2]));
}

/// A sharded ingest killed while it merges leaves its shard files and a half-written year
/// behind; the next run removes them and ends with the same dataset as a clean run.
#[test]
fn killed_sharded_ingest_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    gen_datastage(&d.join("in"), 3, 2021, 2, 1500);
    let sharded = |root: &Path| {
        let mut c = ingest_cmd(&d.join("in"), root);
        c.args(["--memory-mb", "1"]);
        c
    };
    let clean = d.join("clean");
    let out = sharded(&clean).output().unwrap();
    assert!(out.status.success());
    assert!(
        // Spanish by default (`Message::Shards`).
        String::from_utf8_lossy(&out.stderr).contains("fragmento(s)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for point in ["after-tmp-write", "after-swap"] {
        let root = d.join(point);
        let out = sharded(&root)
            .env("PEDAUDIT_CRASH_AT", point)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{point}: the hook did not abort");
        let left = leftovers(&root);
        assert!(
            left.iter().any(|n| n.starts_with(".tmp-shards-")),
            "{point}: {left:?}"
        );
        let out = sharded(&root).output().unwrap();
        assert!(out.status.success(), "{point}");
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("recuperado: removed unfinished .tmp-shards-"),
            "{point}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            leftovers(&root).is_empty(),
            "{point}: {:?}",
            leftovers(&root)
        );
        assert_same_dataset(&clean, &root);
    }
}

/// Files whose lines are not in pedimento order are copied into the shards instead of
/// read in place (src/ingest/shard.rs `Place`): same dataset, rejects and counts.
#[test]
fn scattered_input_equals_in_memory_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ins = inputs(d);
    // Riffle the data lines of the 501 and 556 files (first and second half interleaved:
    // neighbours go to different shards); header first; Latin-1 bytes.
    for e in fs::read_dir(&ins[0]).unwrap().flatten() {
        let p = e.path();
        let name = p.to_string_lossy().to_string();
        if !(name.ends_with("_501.asc") || name.ends_with("_556.asc")) {
            continue;
        }
        let bytes = fs::read(&p).unwrap();
        let lines: Vec<&[u8]> = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let (head, data) = lines.split_at(1);
        let (a, b) = data.split_at(data.len() / 2);
        let mut riffled = head.to_vec();
        for (i, l) in b.iter().enumerate() {
            riffled.extend(a.get(i));
            riffled.push(l);
        }
        let mut out = riffled.join(&b'\n');
        out.push(b'\n');
        fs::write(&p, out).unwrap();
    }
    let whole = run(&ins, &d.join("a"), None, false);
    let sharded = run(&ins, &d.join("b"), Some(1), false);
    assert!(sharded.shards >= 4, "{} shards", sharded.shards);
    assert_eq!(stats(&whole), stats(&sharded));
    assert_eq!(years(&whole), years(&sharded));
    assert_accounting(&sharded);
    assert_eq!(
        rejects_of(&d.join("a"), &whole),
        rejects_of(&d.join("b"), &sharded)
    );
    assert_same_dataset(&d.join("a"), &d.join("b"));
    assert!(leftovers(&d.join("b")).is_empty());
}

/// A sharded run hashes a file whose size no other input and no manifest record has in
/// its split pass (src/ingest/mod.rs `defer`): the hashes are the files' SHA-256, the
/// manifest records them with their sizes, and known files and duplicates in one run
/// are still skipped, also with a manifest written before it had sizes.
#[test]
fn hashes_left_to_the_split_still_skip_known_and_duplicate_files() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ins = inputs(d);
    let (a, b) = (d.join("a"), d.join("b"));
    let first = run(&ins, &a, Some(1), false);
    assert!(first.shards >= 4, "{} shards", first.shards);
    assert!(first.files.len() >= 10, "{}", first.files.len());
    for f in &first.files {
        let bytes = fs::read(&f.file).unwrap();
        assert_eq!(
            f.sha256,
            format!("{:x}", Sha256::digest(&bytes)),
            "{}",
            f.file
        );
        assert_eq!(f.bytes, bytes.len() as u64, "{}", f.file);
    }
    let tsv = a.join("_manifest/files.tsv");
    let manifest = fs::read_to_string(&tsv).unwrap();
    for f in &first.files {
        let line = format!("{}\t{}\t{}\t{}", f.sha256, f.file, first.run_id, f.bytes);
        assert!(
            manifest.lines().any(|l| l == line),
            "{line} not in\n{manifest}"
        );
    }
    let skipped = |r: &IngestReport, note: &str| {
        r.files
            .iter()
            .filter(|f| f.skipped.as_deref().is_some_and(|s| s.starts_with(note)))
            .count()
    };
    // Again: every file known.
    let again = run(&ins, &a, Some(1), false);
    assert_eq!(skipped(&again, "already ingested"), first.files.len());
    assert_eq!(again.rows_read, 0);
    // A manifest from before the size column: every file hashed up front, still known.
    let old: String = manifest
        .lines()
        .map(|l| l.rsplit_once('\t').unwrap().0.to_string() + "\n")
        .collect();
    fs::write(&tsv, old).unwrap();
    let old_again = run(&ins, &a, Some(1), false);
    assert_eq!(skipped(&old_again, "already ingested"), first.files.len());
    // A copy of the first 501 file in another folder, in the same run: one is skipped as
    // a duplicate (same size, so both are hashed up front) and the rows count once.
    let f501 = first
        .files
        .iter()
        .map(|f| PathBuf::from(&f.file))
        .find(|p| p.to_string_lossy().ends_with("_501.asc"))
        .unwrap();
    let dup = d.join("dup");
    fs::create_dir_all(&dup).unwrap();
    fs::copy(&f501, dup.join(f501.file_name().unwrap())).unwrap();
    let mut with_dup = ins.clone();
    with_dup.push(dup);
    let twice = run(&with_dup, &b, Some(1), false);
    assert_eq!(skipped(&twice, "duplicate of another input"), 1);
    assert_eq!(twice.rows_read, first.rows_read);
    assert_eq!(twice.accepted, first.accepted);
}
