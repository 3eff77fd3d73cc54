//! Writing and reading files: the plan (keys sorted, a trailing newline),
//! any file written atomically, and the diff `check` prints.

use std::{io::Write, os::unix::fs::PermissionsExt, path::Path};

use anyhow::Context;
use serde_json::Value;

use crate::error::Error;
use crate::model::{Plan, SCHEMA_VERSION};

/// The plan as the bytes written to disk.
pub fn render(plan: &Plan) -> String {
    let value = serde_json::to_value(plan).expect("the plan model always serialises");
    let mut text =
        serde_json::to_string_pretty(&sorted(value)).expect("a JSON value always serialises");
    text.push('\n');
    text
}

/// Every object with its keys sorted (guppy turns on `preserve_order`).
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Writes `text` to `path` atomically; `false`, untouched, when it already holds `text`.
pub fn write_atomic(path: &Path, text: &str) -> anyhow::Result<bool> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(false);
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".buildplan-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .with_context(|| format!("cannot set permissions on {}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(true)
}

/// Writes `text` to standard output; a closed pipe is not an error.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write to standard output"))
        }
        _ => Ok(()),
    }
}

/// A unified diff from the file's text to the recomputed one (`check`).
pub fn diff(old: &str, new: &str, name: &str) -> String {
    let (from, to) = (format!("{name} (on disk)"), format!("{name} (recomputed)"));
    let diff = similar::TextDiff::from_lines(old, new);
    let mut unified = diff.unified_diff();
    unified.context_radius(3).header(&from, &to).to_string()
}

/// Reads and parses a plan file of this helper's schema version.
pub fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(path, format!("{e} (write it with `cargo buildplan plan`)")))?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let version = value.get("schema_version").and_then(Value::as_u64);
    if version != Some(u64::from(SCHEMA_VERSION)) {
        anyhow::bail!(
            "{}: schema_version {} is not supported (this helper reads {SCHEMA_VERSION}); \
             regenerate it with `cargo buildplan plan`",
            path.display(),
            version.map_or("(missing)".to_string(), |v| v.to_string())
        );
    }
    serde_json::from_value(value)
        .with_context(|| format!("{}: does not match the plan format", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorting_reaches_every_level() {
        let v: Value = serde_json::json!({"b": {"z": 1, "a": [{"y": 1, "x": 2}]}, "a": 0});
        let text = serde_json::to_string(&sorted(v)).unwrap();
        assert_eq!(text, r#"{"a":0,"b":{"a":[{"x":2,"y":1}],"z":1}}"#);
    }

    #[test]
    fn atomic_write_replaces_and_skips_identical() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/plan.json");
        assert!(write_atomic(&path, "one\n").unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\n");
        assert!(!write_atomic(&path, "one\n").unwrap());
        assert!(write_atomic(&path, "two\n").unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two\n");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["plan.json"]);
    }

    #[test]
    fn unknown_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, r#"{"schema_version": 99}"#).unwrap();
        let err = read_plan(&path).unwrap_err().to_string();
        assert!(err.contains("schema_version 99"), "{err}");
        let err = read_plan(&dir.path().join("missing.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cargo buildplan plan"), "{err}");
    }

    #[test]
    fn diff_shows_changed_lines_only_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        let d = diff(old, new, "plan.json");
        assert!(d.contains("--- plan.json (on disk)"), "{d}");
        assert!(d.contains("+++ plan.json (recomputed)"), "{d}");
        assert!(d.contains("-e\n") && d.contains("+E\n"), "{d}");
        assert!(d.contains("@@"), "{d}");
        assert!(!d.contains(" a\n"), "context is three lines: {d}");
    }
}
