//! `generate`: a synthetic history.

use super::*;

pub fn generate(a: GenerateArgs) -> Result<i32> {
    let inject = a.inject.clone();
    let cfg = generate::Config {
        seed: a.seed,
        companies: a.companies,
        start_year: a.start_year,
        years: a.years,
        partidas: a.partidas,
        inject,
        bom_share: a.bom_share,
    };
    let t = Instant::now();
    use GenerateFormat as F;
    let fmt = a.format;
    if matches!(fmt, F::Datastage) {
        // Data Stage only: written as the rows are generated, in bounded memory.
        let dir = a.out.join("datastage");
        let (h, s) = generate::generate_datastage(&cfg, &dir)
            .with_context(|| format!("writing {}", dir.display()))?;
        let n = s.finish()?;
        eprintln!(
            "generated {} pedimentos, {} partidas in {:.1}s; wrote {n} Data Stage files under {}",
            s.pedimentos,
            s.partidas,
            t.elapsed().as_secs_f64(),
            dir.display()
        );
        generate::writers::write_profiles(&h, &a.out.join("profiles"))?;
        generate::cert_profiles::write_cert_profiles_streamed(&h, &s, &a.out.join("profiles"))?;
        generate::writers::write_injected(&h, &a.out.join("injected.csv"))?;
        return Ok(0);
    }
    let h = generate::generate(&cfg);
    let np: usize = h.years.values().map(|y| y.partidas.len()).sum();
    let nped: usize = h.years.values().map(|y| y.pedimentos.len()).sum();
    eprintln!(
        "generated {nped} pedimentos, {np} partidas in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    if matches!(fmt, F::Datastage | F::All) {
        let n = generate::writers::write_datastage(&h, &a.out.join("datastage"))?;
        eprintln!(
            "wrote {n} Data Stage files under {}",
            a.out.join("datastage").display()
        );
    }
    if matches!(fmt, F::Csv | F::All) {
        let p = a.out.join("pedimentos.csv");
        generate::writers::write_csv(&h, &p)?;
        eprintln!("wrote {}", p.display());
    }
    if matches!(fmt, F::Dataset | F::All) {
        let p = a.out.join("dataset");
        generate::writers::write_dataset(&h, &p)?;
        eprintln!("wrote dataset {}", p.display());
    }
    generate::writers::write_profiles(&h, &a.out.join("profiles"))?;
    generate::cert_profiles::write_cert_profiles(&h, &a.out.join("profiles"))?;
    generate::writers::write_injected(&h, &a.out.join("injected.csv"))?;
    Ok(0)
}
