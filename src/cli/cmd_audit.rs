//! `audit`: the checks, the findings written and the summary printed.

use super::*;

pub fn audit(a: AuditArgs) -> Result<i32> {
    let t = Instant::now();
    // Every option is checked before any work (values by clap; paths and the RFC here).
    let selected = checks::select(&a.check)?;
    check_profiles(a.profiles.as_deref())?;
    if a.out.exists() && !a.out.is_dir() {
        bail!("--out {} is a file; it must be a folder", a.out.display());
    }
    recover_dataset(&a.dataset)?;
    let company = match &a.company {
        Some(c) => Some(normalize_company(&a.dataset, c)?),
        None => None,
    };
    let opts = checks::AuditOptions {
        as_of: a.as_of,
        company: company.clone(),
        expiring_days: a.expiring_days,
        profiles: a.profiles.clone(),
        cert: a.cert.options(),
        virtual_value_tolerance_pct: a.virtual_value_tolerance,
        progress: crate::cli_progress::handle(a.lang),
    };
    let cfg = pedaudit::audit::AuditConfig {
        dataset: a.dataset.clone(),
        out: a.out.clone(),
        options: opts,
        checks: selected.clone(),
        batching: match a.batch_companies {
            Some(n) => checks::Batching::Companies(n),
            None => checks::Batching::MemoryMb(
                a.memory_mb
                    .unwrap_or_else(pedaudit::memory::default_budget_mb),
            ),
        },
        tool: "pedimento-audit audit".into(),
    };
    let run = pedaudit::audit::run(&cfg)?;
    let df = run.findings;
    let fp = a.out.join("findings.parquet");
    // The certification table per company is printed when checks were asked for by name.
    if !a.check.is_empty() && run.files.iter().any(|f| f == "cert_assessment.parquet") {
        let table = pedaudit::audit::read_table(&a.out.join("cert_assessment.parquet"))?;
        print!("{}", checks::cert::render(&table)?);
        println!(
            "{}: {}",
            a.lang
                .pick("opciones de certificación", "certification options"),
            cfg.options.cert.describe()
        );
    }
    print_summary(&df, a.lang)?;
    print_wrapped(&match a.lang {
        Lang::Es => format!(
            "fecha de corte {}; {} hallazgos de {} revisiones ({} lote(s) de empresas) en {:.2}s; escritos en {}",
            a.lang.date(run.as_of),
            df.height(),
            selected.len(),
            run.batches,
            t.elapsed().as_secs_f64(),
            fp.display()
        ),
        Lang::En => format!(
            "as of {}; {} findings from {} checks ({} company batch(es)) in {:.2}s; written to {}",
            run.as_of,
            df.height(),
            selected.len(),
            run.batches,
            t.elapsed().as_secs_f64(),
            fp.display()
        ),
    });
    if let Some(level) = a.fail_on
        && explain_fail_on(&df, level, a.lang)?
    {
        return Ok(1);
    }
    Ok(0)
}

/// `--fail-on`: whether a finding at or above `level` exists; if so, says on stderr which
/// ones (count by check and severity, and a few examples) before the exit code 1.
pub(super) fn explain_fail_on(df: &DataFrame, level: Severity, l: Lang) -> Result<bool> {
    let bad = level.at_or_above();
    let text = |c: &str| -> Result<Vec<Option<String>>> {
        let s = df.column(c)?.cast(&DataType::String)?;
        Ok(s.str()?.iter().map(|v| v.map(str::to_string)).collect())
    };
    let (code, sev, rfc, ped, msg) = (
        text("check_code")?,
        text("severity")?,
        text("rfc")?,
        text("pedimento_id")?,
        text(match l {
            Lang::Es => "mensaje",
            Lang::En => "message",
        })?,
    );
    let hits: Vec<usize> = (0..df.height())
        .filter(|&i| sev[i].as_deref().is_some_and(|s| bad.contains(&s)))
        .collect();
    if hits.is_empty() {
        return Ok(false);
    }
    let mut by: std::collections::BTreeMap<(usize, String), usize> = Default::default();
    for &i in &hits {
        let s = sev[i].clone().unwrap_or_default();
        let rank = findings::SEVERITIES
            .iter()
            .position(|x| *x == s)
            .unwrap_or(usize::MAX);
        *by.entry((rank, format!("{} {s}", code[i].as_deref().unwrap_or("?"))))
            .or_default() += 1;
    }
    match l {
        Lang::Es => eprintln!(
            "salida 1 (--fail-on {}): {} hallazgo(s) con severidad {} o mayor:",
            bad[bad.len() - 1],
            hits.len(),
            bad[bad.len() - 1]
        ),
        Lang::En => eprintln!(
            "exit 1 (--fail-on {}): {} finding(s) at severity {} or worse:",
            bad[bad.len() - 1],
            hits.len(),
            bad[bad.len() - 1]
        ),
    }
    for ((_, k), n) in &by {
        eprintln!("  {k}: {n}");
    }
    eprintln!("{}", l.pick("ejemplos:", "examples:"));
    for &i in hits.iter().take(5) {
        eprintln!(
            "  {} {} {} {}: {}",
            code[i].as_deref().unwrap_or(""),
            sev[i].as_deref().unwrap_or(""),
            rfc[i].as_deref().unwrap_or(""),
            ped[i].as_deref().unwrap_or("-"),
            msg[i].as_deref().unwrap_or("")
        );
    }
    Ok(true)
}

/// Counts and amounts by check and company.
pub fn print_summary(df: &DataFrame, l: Lang) -> Result<()> {
    let agg = df
        .clone()
        .lazy()
        .group_by([col("check_code"), col("rfc")])
        .agg([
            len().alias("n"),
            col("amount").sum().alias("amount"),
            (col("igi").fill_null(lit(0)).sum()
                + col("iva").fill_null(lit(0)).sum()
                + col("ieps").fill_null(lit(0)).sum())
            .alias("contributions"),
        ])
        .sort(["rfc", "check_code"], Default::default())
        .collect()?;
    // One table per company (80 columns hold four). No quantity column: a check's
    // findings mix units of measure (UMT), and a sum of kilos and pieces means nothing.
    // Amounts are all MXN.
    let new_table = || {
        term_table(
            match l {
                Lang::Es => vec!["revisión", "hallazgos", "monto MXN", "contribuciones MXN"],
                Lang::En => vec!["check", "findings", "amount MXN", "contributions MXN"],
            },
            &[1, 2, 3],
        )
    };
    let s = |c: &str, i: usize| -> Result<String> {
        let v = agg.column(c)?.get(i)?;
        // Text stays text (a one-row aggregate holds owned strings, which the
        // thousands formatter would split into "D,ESC,ARG,..."); numbers get separators.
        Ok(match v {
            AnyValue::Null => String::new(),
            ref x if x.get_str().is_some() => x.get_str().unwrap_or_default().to_string(),
            ref x if x.dtype().is_numeric() => report::format::any_number(x),
            other => other.to_string(),
        })
    };
    let mut current: Option<(String, Table)> = None;
    for i in 0..agg.height() {
        let rfc = s("rfc", i)?;
        if current.as_ref().is_none_or(|(r, _)| *r != rfc) {
            if let Some((r, t)) = current.take() {
                println!(
                    "{}: {r}\n{t}",
                    l.label(pedaudit::model::lang::Label::Company)
                );
            }
            current = Some((rfc.clone(), new_table()));
        }
        if let Some((_, t)) = current.as_mut() {
            t.add_row(vec![
                s("check_code", i)?,
                s("n", i)?,
                s("amount", i)?,
                s("contributions", i)?,
            ]);
        }
    }
    if let Some((r, t)) = current {
        println!(
            "{}: {r}\n{t}",
            l.label(pedaudit::model::lang::Label::Company)
        );
    }
    Ok(())
}
