//! One `report` run's plan: the period, the evaluation date and the companies to
//! report, checked before any report is built, in groups that fit the memory budget
//! ([`super::groups`]). [`Plan::build_each`] then builds the reports group by group.

use super::groups::{self, Census, Shared};
use super::load::Inputs;
use super::model::{self, BuildOptions, Index, Meta, Period, ReportData};
use super::{ReportArgs, ReportError, command, manifest, run_audit};
use chrono::NaiveDate;
use std::collections::{BTreeSet, HashSet};

/// What a run reports, decided before any report is built.
pub struct Plan {
    pub period: Period,
    pub as_of: NaiveDate,
    /// The companies reported, in RFC order, in groups read one at a time.
    pub groups: Vec<Vec<String>>,
    shared: Shared,
    /// The ids the dataset's rectificaciones replace.
    rectified: HashSet<String>,
    /// The first group's inputs when planning read them already (`--company`).
    loaded: Option<Inputs>,
    /// The memory budget (MiB).
    budget_mb: u64,
}

/// The run's period: `--year`, or `--from`/`--to` defaulting to the dataset's years.
fn period_of(a: &ReportArgs, years: &[i32]) -> Result<Period, ReportError> {
    let period = match (a.year, a.from, a.to) {
        (Some(y), _, _) => Period { from: y, to: y },
        (None, f, t) => Period {
            from: f.unwrap_or(years[0]),
            to: t.unwrap_or(years[years.len() - 1]),
        },
    };
    if period.from > period.to {
        return Err(ReportError::Period(format!(
            "--from {} is after --to {}",
            period.from, period.to
        )));
    }
    if !(1900..=9999).contains(&period.from) || !(1900..=9999).contains(&period.to) {
        return Err(ReportError::Period(format!(
            "years must be 1900..=9999, got {}",
            period.label()
        )));
    }
    Ok(period)
}

/// The memory budget of the run (MiB): `--memory-mb`, else the audit's default.
pub fn budget_mb(a: &ReportArgs) -> u64 {
    a.memory_mb.unwrap_or_else(crate::memory::default_budget_mb)
}

impl Plan {
    /// Checks the inputs and decides what the run reports (the errors of an unknown
    /// company, a period without data or findings of another as-of date come from here).
    pub fn new(a: &ReportArgs) -> Result<Plan, ReportError> {
        let unfinished = crate::dataset::unfinished(&a.dataset);
        if !unfinished.is_empty() {
            return Err(ReportError::HalfWritten {
                dataset: a.dataset.clone(),
                entries: unfinished.join(", "),
            });
        }
        if a.run_audit {
            run_audit(a)?;
        }
        // The audit folder must be one audit's output (see `manifest`); folders without a
        // manifest are accepted here (library callers), the CLI requires one.
        manifest::verify(&a.audit, false)?;
        let mut st = crate::timing::Stages::new("report plan");
        let shared = groups::load_shared(&a.dataset, &a.audit)?;
        let period = period_of(a, &shared.dataset_years)?;
        let rectified = groups::rectified_ids(&a.dataset)?;
        let mut plan = Plan {
            period,
            as_of: period.end(),
            groups: vec![],
            shared,
            rectified,
            loaded: None,
            budget_mb: budget_mb(a),
        };
        // With --company, only that company's rows are read (the dataset-wide census
        // only for an unknown company's message or the as-of date of an empty audit).
        let company = a.company.as_ref().map(|c| c.trim().to_uppercase());
        let (census, selected) = match &company {
            Some(c) => {
                let inputs = plan.load(a, std::slice::from_ref(c))?;
                let census = Census::of(inputs.pedimentos.iter().filter(|p| &p.rfc == c), period);
                plan.loaded = Some(inputs);
                (census, vec![c.clone()])
            }
            None => {
                let census = plan.census(a)?;
                let all = plan.companies(&census).into_iter().collect();
                (census, all)
            }
        };
        st.mark("census");
        plan.as_of = plan.as_of_date(a, &census)?;
        if let Some(c) = company.filter(|c| !plan.companies(&census).contains(c)) {
            let known: Vec<String> = plan.companies(&plan.census(a)?).into_iter().collect();
            return Err(ReportError::UnknownCompany(c, known.join(", ")));
        }
        let selected = plan.with_data(a, &census, selected)?;
        plan.groups = if selected.len() <= 1 {
            vec![selected]
        } else {
            let rows = groups::company_rows(&census, &a.audit)?;
            groups::pack(&selected, &rows, groups::rows_per_group(plan.budget_mb))
        };
        st.mark(&format!("{} groups", plan.groups.len()));
        Ok(plan)
    }

    /// The census of the whole dataset.
    fn census(&self, a: &ReportArgs) -> Result<Census, ReportError> {
        Census::of_dataset(&a.dataset, &self.rectified, self.period)
    }

    /// Every company with pedimentos (in `census`) or findings, sorted.
    fn companies(&self, census: &Census) -> BTreeSet<String> {
        let mut s: BTreeSet<String> = census.companies.keys().cloned().collect();
        s.extend(self.shared.findings.iter().map(|f| f.rfc.clone()));
        s
    }

    /// The findings' evaluation date (it must be `--as-of` when given); without findings,
    /// `--as-of` or the audit's default, the latest payment date of the dataset.
    fn as_of_date(&self, a: &ReportArgs, census: &Census) -> Result<NaiveDate, ReportError> {
        let found = self.shared.findings.iter().map(|f| f.as_of).max();
        Ok(match (a.as_of, found) {
            (Some(w), Some(f)) if w != f => {
                return Err(ReportError::AsOfMismatch {
                    audit: a.audit.clone(),
                    found: f,
                    wanted: w,
                });
            }
            (Some(w), _) => w,
            (None, Some(f)) => f,
            (None, None) => {
                let max = match &a.company {
                    Some(_) => self.census(a)?.max_pago,
                    None => census.max_pago,
                };
                max.unwrap_or(self.period.end())
            }
        })
    }

    /// `selected` without the companies that have no data in the period (an error when
    /// none has, a note for each left out).
    fn with_data(
        &self,
        a: &ReportArgs,
        census: &Census,
        selected: Vec<String>,
    ) -> Result<Vec<String>, ReportError> {
        let period = self.period;
        // A period without data for a company is an error (with --company) or that
        // company is left out (without), never an empty report.
        let has_data = |rfc: &str| {
            census.companies.get(rfc).is_some_and(|f| f.in_period)
                || self
                    .shared
                    .findings
                    .iter()
                    .any(|f| f.rfc == rfc && f.period_start.is_some_and(|d| period.contains(d)))
        };
        let years_of = |rfc: &str| {
            let years = census.companies.get(rfc).map(|f| &f.years);
            let ys = years.into_iter().flatten().map(i32::to_string);
            ys.collect::<Vec<_>>().join(", ")
        };
        let (selected, empty): (Vec<String>, Vec<String>) =
            selected.into_iter().partition(|rfc| has_data(rfc));
        if selected.is_empty() {
            let who = if a.company.is_some() {
                empty.join(", ")
            } else {
                "any company".to_string()
            };
            let have = if a.company.is_some() {
                format!("; years with data: {}", years_of(&empty[0]))
            } else {
                format!("; years in the dataset: {:?}", self.shared.dataset_years)
            };
            return Err(ReportError::NoData(format!(
                "{who} in {}{have}: choose another --year or --from/--to",
                period.label()
            )));
        }
        for rfc in &empty {
            eprintln!(
                "note: {rfc} has no data in {} (years with data: {}); no report for it",
                period.label(),
                years_of(rfc)
            );
        }
        Ok(selected)
    }

    /// The inputs of `group`.
    fn load(&self, a: &ReportArgs, group: &[String]) -> Result<Inputs, ReportError> {
        groups::load_group(&a.dataset, &a.audit, &self.shared, &self.rectified, group)
    }

    /// How many reports the run builds.
    pub fn reports(&self) -> usize {
        self.groups.iter().map(Vec::len).sum()
    }

    /// Builds each report, in RFC order, and hands it to `each`; one group's rows are in
    /// memory at a time (freed before the next group's; their pages go back to the OS
    /// when the process holds more than 9/10 of the budget, as between audit batches).
    pub fn build_each(
        mut self,
        a: &ReportArgs,
        mut each: impl FnMut(ReportData) -> Result<(), ReportError>,
    ) -> Result<(), ReportError> {
        let (period, as_of) = (self.period, self.as_of);
        let mut st = crate::timing::Stages::new("report");
        for group in std::mem::take(&mut self.groups) {
            let inputs = match self.loaded.take() {
                Some(i) => i,
                None => self.load(a, &group)?,
            };
            st.mark("group read");
            let ix = Index::new(&inputs);
            for rfc in &group {
                let d = model::build(
                    &ix,
                    BuildOptions {
                        rfc,
                        period,
                        as_of,
                        meta: Meta {
                            lang: a.lang,
                            tool_version: env!("CARGO_PKG_VERSION").to_string(),
                            command: command(a, rfc, period, as_of),
                            dataset: a.dataset.display().to_string(),
                            audit: a.audit.display().to_string(),
                        },
                        sample: a.sample.map(|n| (n, a.seed)),
                    },
                );
                st.mark("one report built");
                each(d)?;
            }
            st.mark(&format!(
                "group of {} companies built and written",
                group.len()
            ));
            drop(ix);
            drop(inputs);
            if crate::memory::resident_mb().is_some_and(|mb| mb > self.budget_mb / 10 * 9) {
                crate::memory::release();
            }
            st.mark("group released");
        }
        Ok(())
    }
}
