//! Explaining a build ([`explain`]: a [`Report`] of the compiled units with
//! their reasons) and the gate over a report ([`gate`]).

use std::fmt;

use serde::Serialize;

use super::messages::Unit;
use super::reason::{Category, Reason};
use super::record::BuildDirs;
use super::{dirty, fingerprint};
use crate::error::Error;

/// One compiled unit and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explained {
    /// The unit.
    pub unit: Unit,
    /// The reason's group.
    pub category: Category,
    /// The first reason.
    pub reason: Reason,
    /// cargo's words, from its `Dirty` line (none for a new unit).
    pub cargo: Option<String>,
    /// cargo's reason in its fingerprint log, when on (an optional extra).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

/// The answer for one build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Every compiled unit, in cargo's message order.
    pub compiled: Vec<Explained>,
    /// Units cargo found fresh.
    pub fresh: usize,
    /// Why cargo's standard error could not be used (all units unknown).
    pub log_error: Option<String>,
    /// Why the messages could not be used (nothing listed, the gate fails).
    pub messages_error: Option<String>,
}

impl Explained {
    fn new(unit: &Unit, reason: Reason) -> Explained {
        Explained {
            unit: unit.clone(),
            category: reason.category(),
            reason,
            cargo: None,
            log: None,
        }
    }
}

impl Report {
    /// The report on `units`, with `why` for each compiled one.
    fn new(units: &[Unit], why: impl FnMut(&Unit) -> Explained) -> Report {
        let compiled: Vec<Explained> = units.iter().filter(|u| !u.fresh).map(why).collect();
        Report {
            fresh: units.len() - compiled.len(),
            compiled,
            ..Report::default()
        }
    }

    /// The compiled third-party units.
    pub fn third_party(&self) -> impl Iterator<Item = &Explained> {
        self.compiled
            .iter()
            .filter(|e| e.unit.source.is_third_party())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.messages_error {
            writeln!(f, "what cargo compiled is unknown: {e}")?;
        }
        if let Some(e) = &self.log_error {
            writeln!(f, "why is unknown: {e}")?;
        }
        let (compiled, fresh) = (self.compiled.len(), self.fresh);
        writeln!(f, "{compiled} unit(s) compiled, {fresh} fresh")?;
        let mut sorted: Vec<&Explained> = self.compiled.iter().collect();
        sorted.sort_by_key(|e| e.category);
        for group in sorted.chunk_by(|a, b| a.category == b.category) {
            writeln!(f, "{} ({}):", group[0].category, group.len())?;
            for e in group {
                let third_party = e.unit.source.is_third_party();
                let origin = if third_party { "third-party" } else { "local" };
                writeln!(f, "  {} [{origin}]: {}", e.unit.label(), e.reason)?;
            }
        }
        Ok(())
    }
}

/// Explains the compiled `units` from the `Dirty` lines of `stderr` (of
/// `cargo -v`) and, for units without one, the fingerprints in `dirs`.
pub fn explain(stderr: &str, units: &[Unit], dirs: &BuildDirs) -> Result<Report, Error> {
    let said = dirty::dirty_lines(stderr);
    let compiled = units.iter().filter(|u| !u.fresh).count();
    if compiled > 0 && said.is_empty() && !dirty::is_verbose(stderr) {
        return Err(Error::invalid(format!(
            "cargo compiled {compiled} unit(s) but its standard error is not from `cargo -v` \
             (no ``Running `rustc …` `` line), so it cannot say why; run the build with -v \
             and keep its standard error",
        )));
    }
    let logged = dirty::logged(stderr);
    let all = dirs
        .build_dir
        .as_deref()
        .map(crate::layout::all_unit_dirs)
        .unwrap_or_default();
    // Crate names of the compiled libraries, to name changed dependencies.
    let not_lib = ["bin", "custom-build", "test"];
    let libs: Vec<String> = units
        .iter()
        .filter(|u| !u.fresh && !u.test && u.kinds.iter().any(|k| !not_lib.contains(&&**k)))
        .map(|u| u.target.replace('-', "_"))
        .collect();
    Ok(Report::new(units, |unit| {
        let package = (unit.name.clone(), unit.version.clone());
        let own = fingerprint::own(unit, &all);
        // With a snapshot, a unit whose directory is new had no fingerprint
        // to compare with, whatever cargo said about its package's others.
        let is_new = own
            .zip(dirs.before.as_ref())
            .is_some_and(|(own, before)| !before.contains(&own.fingerprint));
        let words = said.get(&package).filter(|_| !is_new);
        let reason = match (words, own) {
            (Some(words), _) => {
                let build_script = unit.kinds.iter().any(|k| k == "custom-build");
                dirty::from_cargo(words, build_script, dirs)
            }
            (None, Some(own)) => {
                fingerprint::explain_new_unit(unit, own, &all, dirs.before.as_ref())
            }
            (None, None) => Reason::Unknown {
                why: format!(
                    "cargo printed no `Dirty` line for {} and no fingerprint of the unit was found",
                    unit.label()
                ),
            },
        };
        let reason = match reason {
            Reason::DependencyChanged { names } if names.is_empty() => {
                let recorded = own.map(|own| fingerprint::recorded_deps(unit, own));
                let names = recorded.into_iter().flatten().filter(|d| libs.contains(d));
                Reason::DependencyChanged {
                    names: names.collect(),
                }
            }
            r => r,
        };
        Explained {
            cargo: words.cloned(),
            log: logged.get(&package).cloned(),
            ..Explained::new(unit, reason)
        }
    }))
}

/// [`explain`], falling back to [`Category::Unknown`] for every compiled
/// unit when the log cannot be used (the error is kept in the report).
pub fn explain_or_unknown(stderr: &str, units: &[Unit], dirs: &BuildDirs) -> Report {
    explain(stderr, units, dirs).unwrap_or_else(|e| {
        let why = e.to_string();
        let unknown = |u: &Unit| Explained::new(u, Reason::Unknown { why: why.clone() });
        Report {
            log_error: Some(why.clone()),
            ..Report::new(units, unknown)
        }
    })
}

/// The gate failed: third-party units compiled (or what compiled is unknown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct GateFailure {
    /// The compiled third-party units and why.
    pub compiled: Vec<Explained>,
    /// Set when the build's messages could not be read.
    pub messages_error: Option<String>,
}

impl fmt::Display for GateFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = &self.messages_error {
            return write!(
                f,
                "cannot tell whether the dependency artifact was reused: {e}"
            );
        }
        let n = self.compiled.len();
        write!(f, "{n} third-party unit(s) compiled although the dependency artifact should have been reused:")?;
        for e in &self.compiled {
            write!(f, "\n  {}: {} ({})", e.unit.label(), e.reason, e.category)?;
        }
        Ok(())
    }
}

/// The gate for a build that should have reused its dependency artifact:
/// fails on any third-party unit compiled, or when that is unknown.
pub fn gate(report: &Report) -> Result<(), GateFailure> {
    let compiled: Vec<Explained> = report.third_party().cloned().collect();
    if compiled.is_empty() && report.messages_error.is_none() {
        return Ok(());
    }
    Err(GateFailure {
        compiled,
        messages_error: report.messages_error.clone(),
    })
}
