//! The pedimento's year is its year of validation, not of payment (fixtures/validation-year,
//! the same operations as Data Stage files and as the documented CSV).
//!
//! Anexo 22 (RGCE 2017), instructivo de llenado, campo 1 "NUM. PEDIMENTO": the number is
//! "2 dígitos, del año de validación" + aduana + patente + a 7-digit número whose first
//! digit "debe corresponder al último dígito del año en curso"; the descargo's
//! "NUM. PEDIMENTO ORIGINAL" is built the same way ("2 dígitos, del año de validación").
//! (Seed 003 L6017-L6022 and L6517-L6525.)
//!
//! Hand-checked fixture (company VYA211230AB1, IMMEX 7778889, fracción 76061299):
//! - B 2021-430-3420-1000100: IN, paid 2021-12-20, 50 units.
//! - A 2021-430-3420-1000123: IN, validated 2021-12-30, paid 2022-01-03, 50 units. Its
//!   número starts with 1: validation year 2021, so its key is 2021-... although it was
//!   paid in 2022 (Data Stage gives only FechaPagoReal 2022-01-03 on its 501 row).
//! - R1 2022-430-3420-2000020: RT paid 2022-03-01, 50 units, 512 naming A (original
//!   1000123, FechaOperacionOrig 2021-12-30).
//! - R2 2022-430-3420-2000021: RT paid 2022-03-02, 50 units, 512 naming B.
//!
//! Both descargos name their lot, so both lots are fully discharged, explicitly: as of
//! 2023-09-01 (both 18-month plazos ended in June/July 2023) there is no TEMP-* and no
//! DESCARGO-* finding. Keyed by payment year (before), A was stored as 2022-...-1000123,
//! R1's reference to 2021-...-1000123 matched nothing and R1 was allocated FIFO.

mod common;
use common::*;
use pedaudit::checks::{self, AuditContext, AuditOptions};

const A: &str = "2021-430-3420-1000123";
const B: &str = "2021-430-3420-1000100";

fn opts() -> AuditOptions {
    AuditOptions {
        profiles: Some(root().join("fixtures/validation-year/profiles")),
        as_of: chrono::NaiveDate::from_ymd_opt(2023, 9, 1),
        ..Default::default()
    }
}

fn check(input: &str) {
    let (_d, ds, r) = ingest(&[root().join("fixtures/validation-year").join(input)]);
    assert_eq!(r.rejected, 0, "{input}: {:?}", r.files);
    // A is stored under its validation year, with its payment date.
    let peds = table_rows(&ds, 2021, "pedimentos");
    let a = peds
        .iter()
        .find(|p| p["pedimento_id"] == A)
        .unwrap_or_else(|| panic!("{input}: {A} not in year=2021: {peds:?}"));
    assert_eq!(a["fecha_pago"], "2022-01-03", "{input}");
    // R1's descargo names A by that key.
    let desc = table_rows(&ds, 2022, "descargos");
    let r1 = desc
        .iter()
        .find(|d| d["pedimento_id"] == "2022-430-3420-2000020")
        .unwrap_or_else(|| panic!("{input}: no descargo of R1: {desc:?}"));
    assert_eq!(r1["original_id"], A, "{input}");

    let ctx = AuditContext::open(&ds, opts()).unwrap();
    // Each return discharges the lot it names, explicitly.
    let alloc = ctx.table("ledger_allocations").collect().unwrap();
    let got: Vec<Vec<String>> = (0..alloc.height())
        .map(|i| {
            ["method", "import_id", "discharge_id", "cantidad"]
                .iter()
                .map(|c| cell(&alloc, c, i))
                .collect()
        })
        .collect();
    let mut got = got;
    got.sort();
    assert_eq!(
        got,
        vec![
            v(&["EXPLICIT", B, "2022-430-3420-2000021", "50.00000"]),
            v(&["EXPLICIT", A, "2022-430-3420-2000020", "50.00000"]),
        ],
        "{input}"
    );
    let names: Vec<String> = vec!["temp".into()];
    let sel = checks::select(&names).unwrap();
    let df = checks::run(&ctx, &sel).unwrap();
    let codes: Vec<String> = (0..df.height())
        .map(|i| cell(&df, "check_code", i))
        .filter(|c| c.starts_with("TEMP-") || c.starts_with("DESCARGO-"))
        .collect();
    assert!(codes.is_empty(), "{input}: {codes:?}");
}

#[test]
fn datastage_validated_in_december_paid_in_january_matches_its_descargo() {
    check("datastage");
}

#[test]
fn csv_validated_in_december_paid_in_january_matches_its_descargo() {
    check("pedimentos.csv");
}
