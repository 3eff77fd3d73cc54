//! The doctor: the workspace's own profile settings that cost build time
//! or memory and buy no runtime, read from cargo's configuration resolved
//! with sources ([`crate::cargo_config`]), each with its cost and a fix.
//!
//! A finding is one of two kinds ([`Kind`]): a fix with no runtime change
//! (debug info that `strip` removes anyway, optimised build scripts and
//! proc-macros), or a trade-off (fat LTO, many codegen units, incremental
//! release builds: the code changes). `tests/doctor.rs` proves the first
//! kind on real builds: with only the build scripts' opt-level changed the
//! binary is the same file; with only the debug info under `strip = true`
//! changed, the machine code is the same apart from one instruction. That
//! instruction is rustc's: with debug info on, it adds a one-byte load of
//! its `.debug_gdb_scripts` section (34 bytes, which `strip` keeps) to
//! `main`, so later sections move by 32 bytes and `.text` is not
//! byte-identical. The doctor says so in the finding.
//!
//! Only settings a layer sets are findings (cargo's built-in defaults are
//! not the workspace's choice), each reported once, at the profile whose
//! table sets it (a profile inheriting the same value from the same source
//! is not repeated). [`apply`] writes fixes into the file the setting
//! lives in, with `toml_edit` so the rest of the file keeps its
//! formatting; settings from the environment or from files outside the
//! workspace are never written.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::cargo_config::{CargoConfig, ResolvedProfile, Settings};
use crate::error::Error;
use crate::memory::{self, Drivers, Lto};

/// Whether fixing a finding changes the shipped binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The fix leaves what the binary does unchanged: the same machine
    /// code (debug info under `strip`: the same except the one load of
    /// `.debug_gdb_scripts` rustc adds to `main` while debug info is on)
    /// or the very same file (build scripts' opt-level).
    NoChange,
    /// The fix changes the binary: a trade-off to weigh.
    TradeOff,
}

impl Kind {
    /// The kind in words, as printed.
    pub fn label(self) -> &'static str {
        match self {
            Kind::NoChange => "no runtime change",
            Kind::TradeOff => "trade-off",
        }
    }
}

/// A fix: one key of one profile table set to a new value.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    /// The key's path below `profile.<name>` (`["debug"]`,
    /// `["build-override", "opt-level"]`).
    pub key: Vec<String>,
    /// The value to write.
    pub value: toml::Value,
}

/// One setting that costs build time or memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The profile whose table sets it.
    pub profile: String,
    /// The key, dotted below the profile (`build-override.opt-level`).
    pub key: String,
    /// Its value.
    pub value: Value,
    /// Where it comes from (`Cargo.toml`, `.cargo/config.toml`,
    /// `env:CARGO_PROFILE_...`).
    pub source: String,
    /// Whether the fix changes the binary.
    pub kind: Kind,
    /// What it costs and why it buys nothing, in words.
    pub why: String,
    /// The estimated or measured cost.
    pub cost: String,
    /// The fix, when one key can express it.
    pub fix: Option<Fix>,
}

/// The machine and graph the costs are estimated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    /// CPUs this process may use.
    pub cpus: u64,
    /// Packages in the build graph (for the memory estimate).
    pub packages: u64,
    /// Memory one job is assumed to need, MiB (the policy's figure).
    pub mem_per_job_mib: u64,
}

fn is_false_or_zero(v: &Value) -> bool {
    matches!(v, Value::Bool(false)) || v.as_u64() == Some(0) || v.as_str() == Some("none")
}

fn strips_debuginfo(v: &Value) -> bool {
    matches!(v, Value::Bool(true)) || matches!(v.as_str(), Some("symbols" | "debuginfo"))
}

/// Whether `key` of `table` in `profile` is only inherited (the parent
/// has the same value from the same source).
fn inherited(
    profile: &ResolvedProfile,
    all: &BTreeMap<String, ResolvedProfile>,
    pick: impl Fn(&ResolvedProfile) -> &Settings,
    key: &str,
) -> bool {
    let Some(parent) = profile.inherits.as_ref().and_then(|p| all.get(p)) else {
        return false;
    };
    match (pick(profile).get(key), pick(parent).get(key)) {
        (Some(a), Some(b)) => a.value == b.value && a.source == b.source,
        _ => false,
    }
}

fn root_of(name: &str, all: &BTreeMap<String, ResolvedProfile>) -> String {
    let mut current = name.to_string();
    for _ in 0..all.len() + 4 {
        match all.get(&current).and_then(|p| p.inherits.clone()) {
            Some(p) => current = p,
            None => break,
        }
    }
    current
}

/// Every finding in `cfg`'s profiles, on `machine`.
pub fn diagnose(cfg: &CargoConfig, machine: &Machine) -> Result<Vec<Finding>, Error> {
    let all = cfg.profiles()?;
    let mut out = Vec::new();
    for (name, p) in &all {
        let release = root_of(name, &all) == "release";
        let own = |key: &str| {
            p.settings
                .get(key)
                .filter(|_| !inherited(p, &all, |r| &r.settings, key))
        };
        let finding = |key: &str, kind, why: String, cost: String, fix: Option<Fix>| {
            let s = &p.settings[key];
            Finding {
                profile: name.clone(),
                key: key.to_string(),
                value: s.value.clone(),
                source: s.source.clone(),
                kind,
                why,
                cost,
                fix,
            }
        };
        let opt_level = p.settings.get("opt-level").map(|s| s.value.clone());
        let optimised = match &opt_level {
            Some(v) => !is_false_or_zero(v),
            None => release,
        };
        // Debug info that strip throws away.
        if let Some(strip) = p
            .settings
            .get("strip")
            .filter(|s| strips_debuginfo(&s.value))
        {
            let debug = p.settings.get("debug");
            let wasted = match debug {
                Some(d) => !is_false_or_zero(&d.value),
                None => !release,
            };
            let reported = match debug {
                Some(_) => own("debug").is_some(),
                None => own("strip").is_some(),
            };
            if wasted && reported {
                let full = debug.is_none_or(|d| {
                    matches!(d.value, Value::Bool(true))
                        || d.value.as_u64() == Some(2)
                        || d.value.as_str() == Some("full")
                });
                let why = format!(
                    "strip = {} removes the debug info from the binary, so generating it only costs time and memory; the shipped code stays the same except one load instruction rustc adds to main while debug info is on (its 34-byte .debug_gdb_scripts section, which strip keeps)",
                    strip.value
                );
                let cost = if full {
                    let with = memory::per_job_mib(
                        &Drivers {
                            lto: Lto::None,
                            codegen_units: 16,
                            full_debug: true,
                        },
                        machine.mem_per_job_mib,
                    );
                    format!(
                        "estimated: every compile and link job writes full debug info (memory per job {} instead of {}: memory.rs's x1.5 for full debug info, assumed), and rustc and the linker spend time producing it",
                        memory::gib(with),
                        memory::gib(machine.mem_per_job_mib)
                    )
                } else {
                    "estimated: every compile and link job writes line tables (less than full debug info; not measured here) that strip then removes".to_string()
                };
                let fix = Some(Fix {
                    key: vec!["debug".into()],
                    value: toml::Value::Integer(0),
                });
                let mut f = match debug {
                    Some(_) => finding("debug", Kind::NoChange, why, cost, fix),
                    None => finding("strip", Kind::NoChange, why, cost, fix),
                };
                if debug.is_none() {
                    f.why = format!(
                        "{} (debug is this profile's default, full debug info)",
                        f.why
                    );
                }
                out.push(f);
            }
        }
        // Incremental compilation in a release-like profile.
        if let Some(s) = own("incremental").filter(|s| s.value == Value::Bool(true)) {
            if release {
                out.push(finding(
                    "incremental",
                    Kind::TradeOff,
                    format!("incremental = {} in a profile inheriting release: every build writes the incremental cache, and the code is split into more units (usually slower code); it only pays off for repeated local rebuilds", s.value),
                    "estimated: clean and CI builds write the incremental cache (extra time and disk, often as large as the target's objects); the binary can be slower".into(),
                    Some(Fix { key: vec!["incremental".into()], value: toml::Value::Boolean(false) }),
                ));
            }
        }
        // Many codegen units on few cores.
        if let Some(s) = own("codegen-units") {
            let units = s.value.as_u64().unwrap_or(0);
            if units > 16 && machine.cpus <= 16 && optimised {
                out.push(finding(
                    "codegen-units",
                    Kind::TradeOff,
                    format!("codegen-units = {units} on a machine with {} CPUs: LLVM cannot run that many units at once, and each adds its own optimisation overhead", machine.cpus),
                    "measured (BENCHMARKS.md, this repository's server, 2 cores, opt-level 2): clean build 331 s with 256 codegen units, 283 s with 16 (0.85x)".into(),
                    Some(Fix { key: vec!["codegen-units".into()], value: toml::Value::Integer(16) }),
                ));
            } else if units == 1 && optimised {
                out.push(finding(
                    "codegen-units",
                    Kind::TradeOff,
                    "codegen-units = 1: LLVM optimises and generates each crate on one thread, so the largest crates (and the final binary crate, which nothing overlaps with) take as long as their slowest single pass; it buys a little runtime speed".into(),
                    "measured on tansu, 2 cores (docs/field-tests.md): a clean build is not slower with one unit (cargo keeps the cores busy with whole crates), but every edit rebuilds the workspace crates on one thread each: a leaf edit of the binary took 161 s with one unit and thin LTO, 49 s with 16 units and no LTO; keep one unit for third-party packages (`package.\"*\".codegen-units = 1`)".into(),
                    Some(Fix { key: vec!["codegen-units".into()], value: toml::Value::Integer(16) }),
                ));
            }
        }
        // Fat LTO in the default release profile.
        if name == "release" {
            if let Some(s) = own("lto") {
                let fat = s.value == Value::Bool(true) || s.value.as_str() == Some("fat");
                if fat {
                    let d = |lto| Drivers {
                        lto,
                        codegen_units: 16,
                        full_debug: false,
                    };
                    let fat_est =
                        memory::estimate(&d(Lto::Fat), machine.packages, machine.mem_per_job_mib);
                    let thin_est =
                        memory::estimate(&d(Lto::Thin), machine.packages, machine.mem_per_job_mib);
                    out.push(finding(
                        "lto",
                        Kind::TradeOff,
                        format!("lto = {} in the default release profile: every `cargo build --release` optimises the whole program in one final rustc process", s.value),
                        format!(
                            "estimated (memory.rs) over {} packages: final step {} with fat LTO, {} with thin LTO; measured (BENCHMARKS.md, 2 cores): a fat-LTO release build took 532 s, 239 s of it in the final step at 7.6 GiB",
                            machine.packages,
                            memory::gib(fat_est.final_step_mib),
                            memory::gib(thin_est.final_step_mib)
                        ),
                        Some(Fix { key: vec!["lto".into()], value: toml::Value::String("thin".into()) }),
                    ));
                }
            }
        }
        // Optimised build scripts and proc-macros.
        if let Some(s) = p
            .build_override
            .get("opt-level")
            .filter(|s| !is_false_or_zero(&s.value))
            .filter(|_| !inherited(p, &all, |r| &r.build_override, "opt-level"))
        {
            out.push(Finding {
                profile: name.clone(),
                key: "build-override.opt-level".into(),
                value: s.value.clone(),
                source: s.source.clone(),
                kind: Kind::NoChange,
                why: "build scripts and proc-macros run at build time only; what they generate does not depend on their opt-level, so the binary is the same file".into(),
                cost: "estimated: every build script, proc-macro and their dependencies (syn, quote, ...) are optimised before anything that needs them can compile, on the critical path of a clean build".into(),
                fix: Some(Fix { key: vec!["build-override".into(), "opt-level".into()], value: toml::Value::Integer(0) }),
            });
        }
        if let Some(s) = p
            .package
            .get("*")
            .and_then(|pkg| pkg.get("opt-level"))
            .filter(|s| !is_false_or_zero(&s.value))
        {
            let parent_same = p
                .inherits
                .as_ref()
                .and_then(|q| all.get(q))
                .and_then(|q| q.package.get("*"))
                .and_then(|pkg| pkg.get("opt-level"))
                .is_some_and(|q| q.value == s.value && q.source == s.source);
            if !parent_same {
                out.push(Finding {
                    profile: name.clone(),
                    key: "package.\"*\".opt-level".into(),
                    value: s.value.clone(),
                    source: s.source.clone(),
                    kind: Kind::TradeOff,
                    why: "package.\"*\" also optimises build scripts, proc-macros and their dependencies: cargo ranks it above build-override, so build-override.opt-level = 0 cannot undo it; name the heavy proc-macro crates instead, e.g. [profile.NAME.package.syn] opt-level = 0".into(),
                    cost: "estimated: proc-macro crates (syn and the like) are optimised on the critical path; dependencies' runtime speed is what you keep".into(),
                    fix: None,
                });
            }
        }
    }
    Ok(out)
}

/// Whether the doctor may write to `source`: the manifest or a config
/// file inside the workspace.
pub fn writable(source: &str) -> bool {
    !crate::config::is_machine_local(source) && !source.starts_with("--config")
}

/// Writes the fixes of `findings` (only [`Kind::NoChange`] ones unless
/// `trade_offs`) into their files under `root`. Returns one line per
/// finding: written, or why not.
pub fn apply(root: &Path, findings: &[Finding], trade_offs: bool) -> Result<Vec<String>, Error> {
    let mut docs: BTreeMap<String, toml_edit::DocumentMut> = BTreeMap::new();
    let mut lines = Vec::new();
    for f in findings {
        let what = format!("{}.{} ({})", f.profile, f.key, f.source);
        let Some(fix) = &f.fix else {
            lines.push(format!("not written: {what}: no one-key fix"));
            continue;
        };
        if f.kind == Kind::TradeOff && !trade_offs {
            lines.push(format!(
                "not written: {what}: a trade-off (--trade-offs writes it)"
            ));
            continue;
        }
        if !writable(&f.source) {
            lines.push(format!(
                "not written: {what}: set outside the workspace's files; change it there"
            ));
            continue;
        }
        if !docs.contains_key(&f.source) {
            let path = root.join(&f.source);
            let text = std::fs::read_to_string(&path).map_err(|e| Error::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            let doc = text
                .parse::<toml_edit::DocumentMut>()
                .map_err(|e| Error::Manifest {
                    file: path.display().to_string(),
                    message: e.to_string(),
                })?;
            docs.insert(f.source.clone(), doc);
        }
        let doc = docs.get_mut(&f.source).expect("just inserted");
        let path: Vec<&str> = ["profile", f.profile.as_str()]
            .into_iter()
            .chain(fix.key.iter().map(String::as_str))
            .collect();
        set(doc.as_item_mut(), &path, edit_value(&fix.value)).map_err(|message| {
            Error::Profile {
                file: f.source.clone(),
                key: path.join("."),
                message,
            }
        })?;
        lines.push(format!(
            "wrote {}.{} = {} in {}",
            f.profile,
            fix.key.join("."),
            fix.value,
            f.source
        ));
    }
    for (source, doc) in docs {
        let path = root.join(&source);
        std::fs::write(&path, doc.to_string()).map_err(|e| Error::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
    }
    Ok(lines)
}

/// Sets the value at `path` below `item`, keeping the old value's
/// comments and creating missing tables; an error when a step on the way
/// is not a table.
fn set(item: &mut toml_edit::Item, path: &[&str], value: toml_edit::Value) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Err("empty key".into());
    };
    let mut current = item;
    for part in parents {
        let table = current
            .as_table_like_mut()
            .ok_or_else(|| format!("cannot be written: `{part}`'s parent is not a table"))?;
        if table.get(part).is_none() {
            table.insert(part, toml_edit::Item::Table(toml_edit::Table::new()));
        }
        current = table.get_mut(part).expect("present");
    }
    let table = current
        .as_table_like_mut()
        .ok_or_else(|| "cannot be written: its parent is not a table".to_string())?;
    let mut value = value;
    match table.get_mut(last) {
        // Replaced in place, so that the key keeps its own comments.
        Some(old) => {
            if let Some(v) = old.as_value() {
                *value.decor_mut() = v.decor().clone();
            }
            *old = toml_edit::Item::Value(value);
        }
        None => {
            table.insert(last, toml_edit::Item::Value(value));
        }
    }
    Ok(())
}

fn edit_value(v: &toml::Value) -> toml_edit::Value {
    match v {
        toml::Value::Boolean(b) => (*b).into(),
        toml::Value::Integer(i) => (*i).into(),
        other => other.as_str().unwrap_or_default().into(),
    }
}

/// The findings in words, one block each, and a summary line.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        out.push_str(&format!(
            "{}.{} = {} (from {})\n  {}\n  cost: {}\n",
            f.profile, f.key, f.value, f.source, f.why, f.cost
        ));
        match &f.fix {
            Some(fix) => out.push_str(&format!(
                "  fix: {} = {} in [profile.{}] of {}: {}\n",
                fix.key.join("."),
                fix.value,
                f.profile,
                f.source,
                f.kind.label()
            )),
            None => out.push_str(&format!("  fix: by hand: {}\n", f.kind.label())),
        }
    }
    let unchanged = findings.iter().filter(|f| f.kind == Kind::NoChange).count();
    out.push_str(&format!(
        "{} finding(s): {} with no runtime change, {} trade-off(s)\n",
        findings.len(),
        unchanged,
        findings.len() - unchanged
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cargo_config::Inputs;

    fn diagnose_manifest(profiles: &str, cpus: u64) -> Vec<Finding> {
        let table: toml::Table = profiles.parse().unwrap();
        let inputs = Inputs {
            workspace_root: "/nonexistent-ws".into(),
            manifest_profiles: table.get("profile").and_then(|p| p.as_table()).cloned(),
            cargo_home: Some("/nonexistent-home".into()),
            workspace_only: true,
            ..Inputs::default()
        };
        let cfg = crate::cargo_config::load(&inputs).unwrap();
        let machine = Machine {
            cpus,
            packages: 400,
            mem_per_job_mib: 1536,
        };
        diagnose(&cfg, &machine).unwrap()
    }

    fn keys(findings: &[Finding]) -> Vec<String> {
        findings
            .iter()
            .map(|f| format!("{}.{}:{}", f.profile, f.key, f.kind.label()))
            .collect()
    }

    #[test]
    fn each_setting_once_at_the_profile_that_sets_it() {
        let found = diagnose_manifest(
            "[profile.release]\ndebug = true\nstrip = \"debuginfo\"\nlto = \"fat\"\ncodegen-units = 256\n\
             [profile.dist]\ninherits = \"release\"\nincremental = true\n",
            2,
        );
        assert_eq!(
            keys(&found),
            [
                "dist.incremental:trade-off",
                "release.debug:no runtime change",
                "release.codegen-units:trade-off",
                "release.lto:trade-off",
            ]
        );
        let lto = &found[3];
        assert_eq!(lto.source, "Cargo.toml");
        assert!(lto.cost.contains("over 400 packages"), "{}", lto.cost);
        assert_eq!(
            lto.fix.as_ref().unwrap().value,
            toml::Value::String("thin".into())
        );
        assert!(
            found[1].cost.contains("2.2 GiB instead of 1.5 GiB"),
            "{}",
            found[1].cost
        );
    }

    #[test]
    fn nothing_without_a_cost() {
        // strip without debug info, fat LTO outside `release`, 256 units at
        // opt-level 0 or on a big machine, build scripts at opt-level 0.
        let quiet = "[profile.release]\nstrip = true\ncodegen-units = 256\n\
                     [profile.release.build-override]\nopt-level = 0\n\
                     [profile.fat]\ninherits = \"release\"\nlto = true\n\
                     [profile.dev]\ncodegen-units = 256\n";
        assert!(diagnose_manifest(quiet, 64).is_empty());
        let found = diagnose_manifest(quiet, 2);
        assert_eq!(keys(&found), ["release.codegen-units:trade-off"]);
    }

    #[test]
    fn one_codegen_unit_in_an_optimised_profile_is_a_trade_off() {
        // tansu's release (thin LTO, one unit) had no finding before this.
        let found = diagnose_manifest(
            "[profile.release]\nlto = \"thin\"\ncodegen-units = 1\n[profile.dev]\ncodegen-units = 1\n",
            2,
        );
        assert_eq!(keys(&found), ["release.codegen-units:trade-off"]);
        assert_eq!(
            found[0].fix.as_ref().unwrap().value,
            toml::Value::Integer(16)
        );
    }

    #[test]
    fn strip_in_dev_wastes_its_default_debug_info() {
        let found = diagnose_manifest("[profile.dev]\nstrip = true\n", 2);
        assert_eq!(keys(&found), ["dev.strip:no runtime change"]);
        assert_eq!(found[0].fix.as_ref().unwrap().key, ["debug"]);
    }

    #[test]
    fn set_keeps_comments_and_handles_dotted_and_inline_tables() {
        let text = "# top\nprofile.release.debug = 2 # why\n[profile.dev]\nstrip = { } # odd\n[profile.x]\ninline = 1\nbo = { opt-level = 3 }\n";
        let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
        set(
            doc.as_item_mut(),
            &["profile", "release", "debug"],
            0.into(),
        )
        .unwrap();
        set(
            doc.as_item_mut(),
            &["profile", "x", "bo", "opt-level"],
            0.into(),
        )
        .unwrap();
        set(
            doc.as_item_mut(),
            &["profile", "x", "new", "opt-level"],
            0.into(),
        )
        .unwrap();
        let err = set(
            doc.as_item_mut(),
            &["profile", "x", "inline", "k"],
            0.into(),
        )
        .unwrap_err();
        assert!(err.contains("not a table"), "{err}");
        let out = doc.to_string();
        assert!(out.contains("profile.release.debug = 0 # why"), "{out}");
        assert!(out.contains("bo = { opt-level = 0 }"), "{out}");
        assert!(out.contains("[profile.x.new]\nopt-level = 0"), "{out}");
        assert!(out.starts_with("# top\n"), "{out}");
    }

    #[test]
    fn build_scripts_and_the_star_package() {
        let found = diagnose_manifest(
            "[profile.release.build-override]\nopt-level = 3\n[profile.dev.package.\"*\"]\nopt-level = 2\n",
            2,
        );
        assert_eq!(
            keys(&found),
            [
                "dev.package.\"*\".opt-level:trade-off",
                "release.build-override.opt-level:no runtime change",
            ]
        );
        assert!(found[0].fix.is_none());
    }
}
