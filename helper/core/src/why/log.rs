//! Reading cargo's fingerprint log.
//!
//! cargo writes it to standard error when run with
//! `CARGO_LOG=cargo::core::compiler::fingerprint=info`. Each line is a
//! `tracing` event:
//!
//! ```text
//!    0.0189s  INFO prepare_target{force=false package_id=util v0.1.0 (/w/util) target="util"}: cargo::core::compiler::fingerprint: fingerprint dirty for util v0.1.0 (/w/util)/Build/TargetInner { .. }
//!    0.0189s  INFO prepare_target{force=false package_id=util v0.1.0 (/w/util) target="util"}: cargo::core::compiler::fingerprint:     dirty: FsStatusOutdated(StaleItem(ChangedFile { .. }))
//! ```
//!
//! Only two pairs of messages are read, both written by cargo's
//! `compare_old_fingerprint` (cargo 1.95, `src/cargo/core/compiler/fingerprint/mod.rs`)
//! once for every unit it prepares, before anything compiles:
//!
//! - `fingerprint dirty for {package}/{mode:?}/{target:?}` followed by
//!   `    dirty: {DirtyReason:?}`: the unit had a fingerprint and it no
//!   longer matches. The reason is the *first* difference cargo found.
//! - `fingerprint error for {package}/{mode:?}/{target:?}` followed by
//!   `    err: {error:?}`: there was no earlier fingerprint to compare
//!   with (`failed to read `<fingerprint file>``), which cargo treats as
//!   `DirtyReason::FreshBuild`. The unit is new in this build directory.
//!
//! The `stale: ...`, `dependency on ... is newer` and `(vs)` lines are
//! ignored: cargo prints them while hashing a unit's dependencies, inside the
//! dependent's span, and the `dirty:` line that follows restates them for
//! the right unit. Units whose fingerprint matched print nothing at `info`.

use std::path::PathBuf;

use super::debug_value::Value;
use super::error::WhyError;

/// The `tracing` target of every line read here.
pub const TARGET: &str = "cargo::core::compiler::fingerprint: ";

/// The unit one log entry is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogUnit {
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// cargo's display of the package (`util v0.1.0 (/w/util)`).
    pub package: String,
    /// Target name (`util`, `build-script-build`).
    pub target: String,
    /// The compile mode as cargo prints it (`Build`, `Test`,
    /// `RunCustomBuild`, `Check { test: false }`).
    pub mode: String,
}

impl LogUnit {
    /// Whether the unit compiles a test harness.
    pub fn is_test(&self) -> bool {
        self.mode == "Test" || self.mode.contains("test: true")
    }

    /// Whether the unit runs a build script rather than compiling anything.
    pub fn is_build_script_run(&self) -> bool {
        self.mode == "RunCustomBuild"
    }
}

/// What cargo said about one unit.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `dirty:` with cargo's `DirtyReason`, parsed; `text` is the reason as
    /// cargo printed it.
    Dirty {
        /// The parsed `DirtyReason`.
        reason: Value,
        /// The reason as printed.
        text: String,
    },
    /// `err:`: no earlier fingerprint could be read.
    NoFingerprint {
        /// The fingerprint file cargo tried to read, when the message names
        /// it (`failed to read `<path>``).
        file: Option<PathBuf>,
        /// The first line of cargo's error.
        message: String,
    },
}

/// One unit's entry in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    /// The unit.
    pub unit: LogUnit,
    /// What cargo said.
    pub outcome: Outcome,
    /// 1-based line of the entry's first line.
    pub line: usize,
}

/// The entries of one fingerprint log.
#[derive(Debug, Clone, Default)]
pub struct FingerprintLog {
    /// Entries in log order.
    pub entries: Vec<LogEntry>,
    /// Lines with the fingerprint `tracing` target (read or ignored).
    pub fingerprint_lines: usize,
    /// Non-blank lines in the text.
    pub lines: usize,
}

/// The parts of one fingerprint line.
struct Line<'a> {
    span: &'a str,
    message: &'a str,
}

fn strip_ansi(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\u{1b}') {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ ... final byte in @..~
            if chars.next() == Some('[') {
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out.into()
}

fn split_line(line: &str) -> Option<Line<'_>> {
    let at = line.find(TARGET)?;
    let head = &line[..at];
    let message = &line[at + TARGET.len()..];
    // The head is `<time>  INFO <spans>: ` (spans optional).
    let span = head
        .find("prepare_target{")
        .map(|s| {
            let rest = &head[s..];
            rest.rfind("}:").map_or(rest, |e| &rest[..e + 1])
        })
        .unwrap_or("");
    Some(Line { span, message })
}

/// `name vX.Y.Z (source)` → (name, version).
fn parse_package(display: &str) -> Option<(String, String)> {
    let (name, rest) = display.split_once(' ')?;
    let rest = rest.strip_prefix('v')?;
    let version = rest.split(' ').next()?;
    if name.is_empty() || version.is_empty() {
        return None;
    }
    Some((name.to_string(), version.to_string()))
}

/// `{package}/{mode:?}/{target:?}` with the span's `package_id` and
/// `target` fields when present.
fn parse_unit(span: &str, what: &str) -> Option<LogUnit> {
    let span_pkg = span
        .find("package_id=")
        .and_then(|s| {
            let rest = &span[s + "package_id=".len()..];
            rest.rfind(" target=\"").map(|e| &rest[..e])
        })
        .filter(|p| what.starts_with(&format!("{p}/")));
    let span_target = span.rfind(" target=\"").and_then(|s| {
        let rest = &span[s + " target=\"".len()..];
        rest.find('"').map(|e| rest[..e].to_string())
    });
    // Without the span: the target's Debug text starts at `/Target`; the
    // mode (no `/` in any mode's Debug) is the segment before it.
    let (package, rest) = match span_pkg {
        Some(p) => (p.to_string(), &what[p.len() + 1..]),
        None => {
            let t = what.find("/Target")?;
            let head = &what[..t];
            let m = head.rfind('/')?;
            (head[..m].to_string(), &what[m + 1..])
        }
    };
    let (mode, target_text) = rest.split_once('/')?;
    let target = match span_target {
        Some(t) => t,
        None => target_name(target_text)?,
    };
    let (name, version) = parse_package(&package)?;
    Some(LogUnit {
        name,
        version,
        package,
        target,
        mode: mode.to_string(),
    })
}

/// The target name from cargo's Debug of a target
/// (`TargetInner { name: "app", .. }` or `..: lib_target("util", ..)`).
fn target_name(text: &str) -> Option<String> {
    let v = Value::parse(text).ok()?;
    if let Some(n) = v.field("name").and_then(Value::as_str) {
        return Some(n.to_string());
    }
    v.field("..")
        .and_then(|call| call.item(0))
        .and_then(Value::as_str)
        .map(str::to_string)
}

impl FingerprintLog {
    /// Reads the entries of `text` (cargo's standard error; other lines are
    /// skipped). A header line without its reason line, or a reason that
    /// is not Debug syntax, is an error: the log was cut or is not cargo's.
    pub fn parse(text: &str) -> Result<FingerprintLog, WhyError> {
        let mut log = FingerprintLog::default();
        let lines: Vec<&str> = text.lines().collect();
        let cut_last_line = !text.is_empty() && !text.ends_with('\n');
        let mut i = 0;
        while i < lines.len() {
            let raw = strip_ansi(lines[i]);
            if !raw.trim().is_empty() {
                log.lines += 1;
            }
            let Some(line) = split_line(&raw) else {
                i += 1;
                continue;
            };
            log.fingerprint_lines += 1;
            let header = line
                .message
                .strip_prefix("fingerprint dirty for ")
                .map(|w| (w, true))
                .or_else(|| {
                    line.message
                        .strip_prefix("fingerprint error for ")
                        .map(|w| (w, false))
                });
            let Some((what, dirty)) = header else {
                i += 1;
                continue;
            };
            let start = i + 1;
            let unit = parse_unit(line.span, what).ok_or_else(|| WhyError::Unreadable {
                line: start,
                text: line.message.to_string(),
                problem: "not `<package> v<version>/<mode>/<target>`".into(),
            })?;
            // The reason follows on the next fingerprint line.
            let mut j = i + 1;
            let reason_line = loop {
                let Some(next) = lines.get(j) else {
                    return Err(WhyError::Truncated {
                        line: start,
                        unit: unit.package.clone(),
                    });
                };
                let next = strip_ansi(next);
                if let Some(l) = split_line(&next) {
                    break l.message.trim_start().to_string();
                }
                j += 1;
            };
            if j + 1 == lines.len() && cut_last_line {
                return Err(WhyError::Truncated {
                    line: start,
                    unit: unit.package.clone(),
                });
            }
            log.fingerprint_lines += 1;
            let outcome = if dirty {
                let Some(text) = reason_line.strip_prefix("dirty: ") else {
                    return Err(WhyError::Unreadable {
                        line: j + 1,
                        text: reason_line,
                        problem: "expected `dirty: <reason>` after `fingerprint dirty for`".into(),
                    });
                };
                let reason = Value::parse(text).map_err(|e| WhyError::Unreadable {
                    line: j + 1,
                    text: text.to_string(),
                    problem: format!("not a cargo DirtyReason ({e}); the log may be cut"),
                })?;
                Outcome::Dirty {
                    reason,
                    text: text.to_string(),
                }
            } else {
                let Some(message) = reason_line.strip_prefix("err: ") else {
                    return Err(WhyError::Unreadable {
                        line: j + 1,
                        text: reason_line,
                        problem: "expected `err: <error>` after `fingerprint error for`".into(),
                    });
                };
                let file = message
                    .strip_prefix("failed to read `")
                    .and_then(|r| r.strip_suffix('`'))
                    .map(PathBuf::from);
                Outcome::NoFingerprint {
                    file,
                    message: message.to_string(),
                }
            };
            log.entries.push(LogEntry {
                unit,
                outcome,
                line: start,
            });
            i = j + 1;
        }
        Ok(log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "   0.02s  INFO prepare_target{force=false package_id=util v0.1.0 (/w/a b/util) target=\"util\"}: cargo::core::compiler::fingerprint: ";

    #[test]
    fn reads_dirty_and_error_pairs() {
        let text = format!(
            "{P}stale: changed \"/w/a b/util/src/lib.rs\"\n\
             {P}fingerprint dirty for util v0.1.0 (/w/a b/util)/Build/TargetInner {{ name_inferred: true, ..: lib_target(\"util\", [\"lib\"], \"/w/a b/util/src/lib.rs\", Edition2021) }}\n\
             {P}    dirty: FeaturesChanged {{ old: \"[]\", new: \"[\\\"x\\\"]\" }}\n\
             {P}fingerprint error for util v0.1.0 (/w/a b/util)/Test/TargetInner {{ name: \"util\" }}\n\
             {P}    err: failed to read `/t/debug/.fingerprint/util-0123456789abcdef/test-lib-util`\n\
             \n\
             Caused by:\n    No such file or directory (os error 2)\n\
                Compiling util v0.1.0 (/w/a b/util)\n"
        );
        let log = FingerprintLog::parse(&text).unwrap();
        assert_eq!(log.entries.len(), 2);
        let e = &log.entries[0];
        assert_eq!(e.unit.name, "util");
        assert_eq!(e.unit.version, "0.1.0");
        assert_eq!(e.unit.target, "util");
        assert_eq!(e.unit.mode, "Build");
        assert!(
            matches!(&e.outcome, Outcome::Dirty { reason, .. } if reason.name() == Some("FeaturesChanged"))
        );
        let e = &log.entries[1];
        assert!(e.unit.is_test());
        assert_eq!(
            e.outcome,
            Outcome::NoFingerprint {
                file: Some("/t/debug/.fingerprint/util-0123456789abcdef/test-lib-util".into()),
                message:
                    "failed to read `/t/debug/.fingerprint/util-0123456789abcdef/test-lib-util`"
                        .into()
            }
        );
    }

    #[test]
    fn without_span_the_message_still_names_the_unit() {
        let text = "INFO cargo::core::compiler::fingerprint: fingerprint dirty for itoa v1.0.19/Build/TargetInner { name_inferred: true, ..: lib_target(\"itoa\", [\"lib\"], \"/r/itoa-1.0.19/src/lib.rs\", Edition2018) }\n\
                    INFO cargo::core::compiler::fingerprint:     dirty: NothingObvious\n";
        let log = FingerprintLog::parse(text).unwrap();
        assert_eq!(log.entries[0].unit.name, "itoa");
        assert_eq!(log.entries[0].unit.target, "itoa");
    }

    #[test]
    fn a_cut_log_is_an_error() {
        let header = format!("{P}fingerprint dirty for util v0.1.0 (/w/a b/util)/Build/TargetInner {{ name: \"util\" }}\n");
        assert!(matches!(
            FingerprintLog::parse(&header),
            Err(WhyError::Truncated { .. })
        ));
        let cut = format!("{header}{P}    dirty: FeaturesChanged {{ old: \"[]\", ne");
        assert!(matches!(
            FingerprintLog::parse(&cut),
            Err(WhyError::Truncated { .. } | WhyError::Unreadable { .. })
        ));
        let cut = format!("{header}{P}    dirty: FeaturesChanged {{ old: \"[]\", ne\n");
        assert!(matches!(
            FingerprintLog::parse(&cut),
            Err(WhyError::Unreadable { .. })
        ));
    }
}
