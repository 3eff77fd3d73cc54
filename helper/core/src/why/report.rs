//! Explaining a build: the compiled units with their reasons ([`Report`]),
//! and the gate over a report.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::error::WhyError;
use super::fingerprint::{self, Snapshot};
use super::log::{self, FingerprintLog, Outcome};
use super::messages::{self, Unit};
use super::reason::{self, Category, Reason};
use super::record::SourceRecord;

/// Where the build's files are, what existed before it, and the content
/// record: what turns cargo's reasons into [`Reason`]s.
#[derive(Debug, Clone, Default)]
pub struct BuildDirs {
    /// cargo's target directory, when known.
    pub target_dir: Option<PathBuf>,
    /// cargo's build directory (fingerprints, `deps/`), when known; cargo's
    /// default is the target directory.
    pub build_dir: Option<PathBuf>,
    /// The fingerprint directories that existed before the build, when it
    /// ran through [`run`].
    pub before: Option<Snapshot>,
    /// Recorded source contents (empty: touches cannot be told from edits).
    pub record: SourceRecord,
}

impl reason::Context for BuildDirs {
    fn is_output(&self, path: &Path) -> bool {
        let known: Vec<&PathBuf> = self
            .target_dir
            .iter()
            .chain(self.build_dir.iter())
            .collect();
        if !known.is_empty() {
            return known.iter().any(|d| path.starts_with(d));
        }
        // No directories known: cargo's outputs live in `deps/`,
        // `.fingerprint/` or `build/` of a profile directory.
        path.components().any(|c| {
            let c = c.as_os_str();
            c == "deps" || c == ".fingerprint" || c == "target"
        })
    }

    fn same_content(&self, path: &Path, reference: Option<(i64, u32)>) -> Option<bool> {
        self.record.same_content(path, reference)
    }
}

/// One compiled unit and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explained {
    /// The unit.
    pub unit: Unit,
    /// The reason's group.
    pub category: Category,
    /// The first reason.
    pub reason: Reason,
    /// cargo's own reason as logged (`FeaturesChanged { .. }`), or `None`
    /// when cargo logged none (a new unit) or the log had no entry.
    pub cargo: Option<String>,
}

/// The answer for one build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Every compiled unit, in cargo's message order.
    pub compiled: Vec<Explained>,
    /// Units cargo found fresh.
    pub fresh: usize,
    /// Why the log could not be used, when it could not; every compiled
    /// unit is then [`Category::Unknown`].
    pub log_error: Option<String>,
    /// Why the messages could not be used, when they could not: the report
    /// then cannot list what was compiled, and the gate fails.
    pub messages_error: Option<String>,
}

impl Report {
    /// Compiled units by group.
    pub fn by_category(&self) -> BTreeMap<Category, Vec<&Explained>> {
        let mut map: BTreeMap<Category, Vec<&Explained>> = BTreeMap::new();
        for e in &self.compiled {
            map.entry(e.category).or_default().push(e);
        }
        map
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
        writeln!(
            f,
            "{} unit(s) compiled, {} fresh",
            self.compiled.len(),
            self.fresh
        )?;
        for (cat, units) in self.by_category() {
            writeln!(f, "{cat} ({}):", units.len())?;
            for e in units {
                let origin = if e.unit.source.is_third_party() {
                    "third-party"
                } else {
                    "local"
                };
                writeln!(f, "  {} [{origin}]: {}", e.unit.label(), e.reason)?;
            }
        }
        Ok(())
    }
}

/// The units cargo's JSON messages (`--message-format json`) list.
pub fn units(messages: &str) -> Result<Vec<Unit>, WhyError> {
    messages::parse(messages)
}

type Key = (String, String, String, bool);

fn key(name: &str, version: &str, target: &str, test: bool) -> Key {
    (
        name.to_string(),
        version.to_string(),
        target.to_string(),
        test,
    )
}

/// Explains every compiled unit of `units` from the fingerprint log text
/// `log`.
pub fn explain(log: &str, units: &[Unit], dirs: &BuildDirs) -> Result<Report, WhyError> {
    let compiled: Vec<&Unit> = units.iter().filter(|u| !u.fresh).collect();
    let fresh = units.len() - compiled.len();
    if compiled.is_empty() {
        return Ok(Report {
            fresh,
            ..Report::default()
        });
    }
    if log.trim().is_empty() {
        return Err(WhyError::Empty {
            compiled: compiled.len(),
        });
    }
    let parsed = FingerprintLog::parse(log)?;
    if parsed.fingerprint_lines == 0 {
        return Err(WhyError::NotCargo {
            lines: parsed.lines,
        });
    }
    // Why each package's build script ran, when cargo ran it again.
    let mut script_runs: HashMap<(String, String), &log::LogEntry> = HashMap::new();
    for e in parsed
        .entries
        .iter()
        .filter(|e| e.unit.is_build_script_run())
    {
        script_runs
            .entry((e.unit.name.clone(), e.unit.version.clone()))
            .or_insert(e);
    }
    let mut entries: HashMap<Key, VecDeque<&log::LogEntry>> = HashMap::new();
    for e in parsed
        .entries
        .iter()
        .filter(|e| !e.unit.is_build_script_run())
    {
        entries
            .entry(key(
                &e.unit.name,
                &e.unit.version,
                &e.unit.target,
                e.unit.is_test(),
            ))
            .or_default()
            .push_back(e);
    }
    // Crate names of the compiled libraries, to name changed dependencies.
    let compiled_libs: Vec<String> = compiled
        .iter()
        .filter(|u| {
            !u.test
                && u.kinds
                    .iter()
                    .any(|k| k != "bin" && k != "custom-build" && k != "test")
        })
        .map(|u| u.target.replace('-', "_"))
        .collect();
    let roots = dirs
        .build_dir
        .as_deref()
        .map(fingerprint::fingerprint_roots)
        .unwrap_or_default();
    let mut out = Vec::new();
    for unit in compiled {
        let entry = entries
            .get_mut(&key(&unit.name, &unit.version, &unit.target, unit.test))
            .and_then(VecDeque::pop_front);
        let (reason, cargo) = match entry.map(|e| &e.outcome) {
            None => (
                Reason::Unknown {
                    why: "no entry in the fingerprint log (cut, or from another build)".into(),
                },
                None,
            ),
            Some(Outcome::Dirty { reason, text }) => {
                (reason::from_dirty(reason, text, dirs), Some(text.clone()))
            }
            Some(Outcome::NoFingerprint {
                file: Some(file), ..
            }) => (
                fingerprint::explain_new_unit(
                    file,
                    unit.source.is_third_party(),
                    dirs.before.as_ref(),
                ),
                None,
            ),
            Some(Outcome::NoFingerprint {
                file: None,
                message,
            }) => (
                Reason::Other {
                    cargo: format!("no earlier fingerprint: {message}"),
                },
                None,
            ),
        };
        let reason = match reason {
            Reason::DependencyChanged { names } if names.is_empty() => {
                let names: Vec<String> = fingerprint::recorded_deps(&roots, unit)
                    .into_iter()
                    .filter(|d| compiled_libs.contains(d))
                    .collect();
                let script = script_runs.get(&(unit.name.clone(), unit.version.clone()));
                match script.map(|e| &e.outcome) {
                    // No rebuilt library explains it, but its build script
                    // ran again: that run's reason is the cause.
                    Some(Outcome::Dirty { reason, text }) if names.is_empty() => {
                        Reason::BuildScriptRan {
                            because: Box::new(reason::from_dirty(reason, text, dirs)),
                        }
                    }
                    _ => Reason::DependencyChanged { names },
                }
            }
            r => r,
        };
        out.push(Explained {
            unit: unit.clone(),
            category: reason.category(),
            reason,
            cargo,
        });
    }
    Ok(Report {
        compiled: out,
        fresh,
        log_error: None,
        messages_error: None,
    })
}

/// [`explain`], falling back to [`Category::Unknown`] for every compiled
/// unit when the log cannot be used (the error is kept in the report).
pub fn explain_or_unknown(log: &str, units: &[Unit], dirs: &BuildDirs) -> Report {
    match explain(log, units, dirs) {
        Ok(r) => r,
        Err(e) => Report {
            compiled: units
                .iter()
                .filter(|u| !u.fresh)
                .map(|u| {
                    let reason = Reason::Unknown { why: e.to_string() };
                    Explained {
                        unit: u.clone(),
                        category: reason.category(),
                        reason,
                        cargo: None,
                    }
                })
                .collect(),
            fresh: units.iter().filter(|u| u.fresh).count(),
            log_error: Some(e.to_string()),
            messages_error: None,
        },
    }
}

/// The gate failed: third-party units were compiled by a build that should
/// have reused the dependency artifact (or what was compiled is unknown).
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
        write!(
            f,
            "{} third-party unit(s) compiled although the dependency artifact should have been reused:",
            self.compiled.len()
        )?;
        for e in &self.compiled {
            write!(f, "\n  {}: {} ({})", e.unit.label(), e.reason, e.category)?;
        }
        Ok(())
    }
}

/// The gate for a build that should have reused its dependency artifact:
/// fails naming every third-party unit compiled and its reason, and fails
/// when the report cannot say what was compiled. Local (path) units may
/// compile.
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
