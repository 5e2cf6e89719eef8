//! The dataset: hive-partitioned Parquet, one directory per pedimento year (the year on
//! its number: of validation, `model::PedimentoKey`).
//!
//! ```text
//! <root>/year=2024/pedimentos.parquet
//!                 /partidas.parquet
//!                 /identificadores.parquet
//!                 /descargos.parquet
//!                 /conflicts.parquet      (earlier versions replaced by a different one)
//! <root>/rejects/<run>.parquet            (every rejected input row, with file/line/field/reason)
//! <root>/_manifest/<run>.json             (per input file: hash, rows read/accepted/rejected)
//! <root>/_manifest/files.tsv              (hashes already ingested: re-ingest is a no-op)
//! ```
//! A year is written to `<root>/.tmp-year=2024-<pid>/` and renamed into place (one atomic
//! rename per year), so a killed ingest leaves each year either as before or as after.
//!
//! Appended segments: when an ingest only adds pedimentos a year does not hold yet (the
//! usual monthly load), the year's files are not rewritten. The new rows go to segment files
//! `<table>-00001.parquet`, `<table>-00002.parquet`, ... beside the base `<table>.parquet`;
//! the old files are hard-linked into the `.tmp-year=*` directory, which is swapped in as
//! above. A table of a year is the base followed by its segments ([`table_files`]; engines
//! glob `year=*/<table>*.parquet`). A merge that replaces or extends stored pedimentos, or a
//! year past [`MAX_SEGMENTS`], rewrites the year into one base file again.
//! Money is Decimal128(18,2), quantities Decimal128(18,5), rates Decimal128(18,6).

mod hash;
mod layout;
mod merge;
mod recover;
mod rows;
mod schema;
mod write;

pub use hash::*;
pub use layout::*;
pub use merge::*;
pub use recover::*;
pub use rows::*;
pub use schema::*;
pub use write::*;

use crate::model::{self, MONEY_SCALE, QTY_SCALE, RATE_SCALE, RejectReason};
use arrow::array::{
    Array, ArrayRef, Date32Array, Decimal128Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("Parquet error on {path}: {source}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("Arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("{0}")]
    Other(String),
}

pub type Result<T> = std::result::Result<T, DatasetError>;

pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DatasetError + '_ {
    move |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn pq(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> DatasetError + '_ {
    move |source| DatasetError::Parquet {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, BuildHasherDefault};

    fn header(id: &str, clave: &str) -> PedimentoRow {
        let d = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        PedimentoRow {
            pedimento_id: id.into(),
            year: 2024,
            aduana_seccion: "240".into(),
            patente: "3953".into(),
            numero: id[id.len() - 7..].into(),
            tipo_operacion: 1,
            clave: clave.into(),
            clave_declarada: clave.into(),
            tipo_pedimento: 1,
            rfc: "AAA010101AAA".into(),
            nombre: None,
            immex_programa: None,
            fecha_pago: d,
            fecha_entrada: None,
            fecha_seleccion: None,
            fecha_operacion: d,
            tipo_cambio: None,
            valor_dolares: Decimal::ZERO,
            valor_aduana: Decimal::ZERO,
            valor_comercial: Decimal::ZERO,
            rectifica_id: None,
            contraparte_id: None,
            contraparte_rfc: None,
            source_file: "a.csv".into(),
            source_line: 2,
            hora_pago: None,
            consolidado: None,
        }
    }

    /// Headers in strictly increasing id order are kept as they are (the fast path); a
    /// repeated id, in order or not, keeps its last version and the earlier one, when it
    /// differs, as a conflict.
    #[test]
    fn dedupe_keeps_the_last_version_of_a_pedimento() {
        let ids = ["2024-240-3953-4000001", "2024-240-3953-4000002"];
        let mut y = YearData {
            pedimentos: vec![header(ids[0], "A1"), header(ids[1], "A1")],
            ..Default::default()
        };
        y.dedupe();
        assert_eq!(y.pedimentos.len(), 2);
        assert!(y.conflicts.is_empty());
        for order in [[0, 0, 1], [0, 1, 0]] {
            let mut y = YearData::default();
            for (k, i) in order.into_iter().enumerate() {
                y.pedimentos
                    .push(header(ids[i], if k == 0 { "A1" } else { "IN" }));
            }
            y.dedupe();
            let kept: Vec<(&str, &str)> = y
                .pedimentos
                .iter()
                .map(|p| (p.pedimento_id.as_str(), p.clave.as_str()))
                .collect();
            assert!(kept.contains(&(ids[0], "IN")), "{order:?}: {kept:?}");
            assert_eq!(kept.len(), 2, "{order:?}");
            assert_eq!(y.conflicts.len(), 1, "{order:?}");
            assert_eq!(y.conflicts[0].clave, "A1");
        }
    }

    /// Descriptive text columns are written without statistics, keys with them.
    #[test]
    fn statistics_only_where_a_reader_filters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.parquet");
        let rows = vec![header("2024-240-3953-4000001", "A1")];
        write_parquet(
            &path,
            pedimentos_schema(),
            &[pedimentos_batch(&rows).unwrap()],
        )
        .unwrap();
        let f = fs::File::open(&path).unwrap();
        let r = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
        let g = &r.metadata().row_groups()[0];
        let stats = |name: &str| {
            g.columns()
                .iter()
                .find(|c| c.column_path().string() == name)
                .unwrap()
                .statistics()
                .is_some()
        };
        for c in ["pedimento_id", "rfc", "clave", "fecha_pago"] {
            assert!(stats(c), "{c}");
        }
        for c in ["source_file", "clave_declarada", "nombre"] {
            assert!(!stats(c), "{c}");
        }
    }

    /// Rows written in small batches come back in order, in row groups of 64K-256K rows
    /// (the last one smaller).
    #[test]
    fn par_writer_buffers_rows_into_row_groups() {
        use arrow::array::Int64Array;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("s", DataType::Utf8, true),
        ]));
        let mut w = ParWriter::create(&path, schema.clone()).unwrap();
        let total = 700_000i64;
        for start in (0..total).step_by(5_000) {
            let n: Vec<i64> = (start..start + 5_000).collect();
            let s: Vec<Option<String>> = n
                .iter()
                .map(|i| (i % 3 > 0).then(|| i.to_string()))
                .collect();
            let b = RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(n)),
                    Arc::new(arrow::array::StringArray::from(s)),
                ],
            )
            .unwrap();
            w.write(&b).unwrap();
        }
        w.finish().unwrap();
        let f = fs::File::open(&path).unwrap();
        let r = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
        let groups: Vec<i64> = r
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows())
            .collect();
        assert_eq!(groups.iter().sum::<i64>(), total);
        let (last, full) = groups.split_last().unwrap();
        assert!(
            full.iter().all(|g| (65_536..=262_144).contains(g)),
            "{groups:?}"
        );
        assert!(*last <= 262_144, "{groups:?}");
        let mut next = 0i64;
        for b in r.build().unwrap() {
            let b = b.unwrap();
            let n = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            let s = b
                .column(1)
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .unwrap();
            for i in 0..b.num_rows() {
                assert_eq!(n.value(i), next);
                assert_eq!(s.is_null(i), next % 3 == 0);
                next += 1;
            }
        }
        assert_eq!(next, total);
    }

    /// Keys of one shard differ in the last digits of the número; hashbrown takes the
    /// bucket from the hash's low bits, so those must differ too.
    #[test]
    fn fx_spreads_keys_that_differ_in_their_last_digits() {
        let b = BuildHasherDefault::<Fx>::default();
        let buckets: std::collections::HashSet<u64> = (9_000_000..9_004_096u32)
            .map(|n| {
                let mut numero = [0u8; 7];
                numero.copy_from_slice(n.to_string().as_bytes());
                (([b'0', b'7', b'0'], *b"3001", numero), 2024i32)
            })
            .map(|k| b.hash_one(k) & 4095)
            .collect();
        // Uniform hashing puts 4,096 keys in about 2,590 of 4,096 buckets.
        assert!(buckets.len() > 2_400, "{} buckets", buckets.len());
    }
}
