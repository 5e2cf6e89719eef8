//! The streaming generator (`generate --format datastage`) writes the same Data Stage
//! files, byte for byte, as the whole history written at once, and the same profiles.

use pedaudit::generate::{self, Config, Violation, cert_profiles, writers};
use std::path::Path;

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn same_output(cfg: &Config) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("whole"), dir.path().join("stream"));
    let h = generate::generate(cfg);
    let n = writers::write_datastage(&h, &a.join("ds")).unwrap();
    cert_profiles::write_cert_profiles(&h, &a.join("profiles")).unwrap();
    writers::write_profiles(&h, &a.join("profiles")).unwrap();

    let (hs, s) = generate::generate_datastage(cfg, &b.join("ds")).unwrap();
    assert_eq!(s.finish().unwrap(), n);
    cert_profiles::write_cert_profiles_streamed(&hs, &s, &b.join("profiles")).unwrap();
    writers::write_profiles(&hs, &b.join("profiles")).unwrap();
    assert_eq!(
        s.pedimentos,
        h.years.values().map(|y| y.pedimentos.len()).sum::<usize>()
    );
    assert_eq!(
        s.partidas,
        h.years.values().map(|y| y.partidas.len()).sum::<usize>()
    );
    assert_eq!(hs.injected.len(), h.injected.len());
    assert!(hs.years.is_empty(), "the stream keeps no rows");

    let (fa, fb) = (files(&a.join("ds")), files(&b.join("ds")));
    assert_eq!(
        fa.iter().map(|f| &f.0).collect::<Vec<_>>(),
        fb.iter().map(|f| &f.0).collect::<Vec<_>>(),
        "no part files left behind"
    );
    for (x, y) in fa.iter().zip(&fb) {
        assert!(
            x.1 == y.1,
            "{} differs ({} vs {} bytes)",
            x.0,
            x.1.len(),
            y.1.len()
        );
    }
    assert_eq!(files(&a.join("profiles")), files(&b.join("profiles")));
}

#[test]
fn streamed_datastage_equals_whole_history() {
    // Injected violations (written after the last month), rectificaciones, V1 transfers.
    same_output(&Config {
        seed: 7,
        companies: 3,
        years: 2,
        partidas: 4000,
        inject: Violation::ALL.to_vec(),
        ..Default::default()
    });
    // More companies than (aduana, patente) groups: several companies share a número
    // sequence, and a file interleaves them.
    same_output(&Config {
        seed: 3,
        companies: 31,
        start_year: 2021,
        years: 1,
        partidas: 6000,
        inject: vec![Violation::Expired, Violation::VirtualLate],
        bom_share: 0.0,
    });
    // Manufacturers (every company): production orders, product returns exploded by the
    // ledger, monthly actas (desperdicios.csv), BOM-based injected violations.
    same_output(&Config {
        seed: 9,
        companies: 4,
        years: 2,
        partidas: 3000,
        inject: Violation::ALL.to_vec(),
        bom_share: 1.0,
        ..Default::default()
    });
}
