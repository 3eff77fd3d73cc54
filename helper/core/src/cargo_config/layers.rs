//! Finding and reading the configuration layers cargo reads, and naming
//! each one the way the plan does: `.cargo/config.toml` (or the legacy
//! `.cargo/config`) in the directory cargo runs in and every parent, then
//! `$CARGO_HOME/config.toml` unless already met on the way up, then
//! `--config` values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

/// What kind of place a layer comes from; this decides how it merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A config file found on disk.
    File,
    /// A `--config` argument (inline TOML or a file it names).
    Cli,
}

/// One configuration file or `--config` value, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    /// The name the plan uses for it (see [`source_name`]).
    pub source: String,
    /// File or command line.
    pub kind: Kind,
    /// Its contents.
    pub table: toml::Table,
}

/// The layers, lowest precedence first (`$CARGO_HOME`, farthest parent,
/// ..., the nearest directory, then `--config` values in order), plus the
/// warnings cargo would print while finding them. With `stop_at`, no
/// directory above it is searched.
pub(crate) fn discover(
    root: &Path,
    cwd: &Path,
    cargo_home: Option<&Path>,
    stop_at: Option<&Path>,
    cli: &[String],
) -> Result<(Vec<Layer>, Vec<String>), Error> {
    let mut warnings = Vec::new();
    let mut seen_dirs = Vec::new();
    let mut found = Vec::new(); // nearest first
    for dir in cwd.ancestors() {
        if stop_at.is_some_and(|top| !dir.starts_with(top)) {
            break;
        }
        let dot_cargo = dir.join(".cargo");
        seen_dirs.push(normalise(&dot_cargo));
        if let Some(file) = pick(&dot_cargo, &mut warnings) {
            found.push(file);
        }
    }
    if let Some(home) = cargo_home {
        if !seen_dirs.contains(&normalise(home)) {
            if let Some(file) = pick(home, &mut warnings) {
                found.push(file);
            }
        }
    }
    let mut layers = Vec::new();
    for path in found.into_iter().rev() {
        read_with_includes(&path, root, cargo_home, &mut Vec::new(), &mut layers)?;
    }
    for arg in cli {
        let as_path = cwd.join(arg);
        let source = format!("--config {arg}");
        let table = if !arg.contains('=') && as_path.is_file() {
            read_toml(&as_path, &source)?
        } else {
            parse_toml(arg, &source)?
        };
        layers.push(Layer {
            source,
            kind: Kind::Cli,
            table,
        });
    }
    Ok((layers, warnings))
}

/// The config file cargo reads in one `.cargo` directory (or `$CARGO_HOME`).
fn pick(dir: &Path, warnings: &mut Vec<String>) -> Option<PathBuf> {
    let (legacy, modern) = (dir.join("config"), dir.join("config.toml"));
    if !legacy.is_file() {
        return modern.is_file().then_some(modern);
    }
    warnings.push(if modern.is_file() {
        format!(
            "both `{0}` and `{1}` exist; cargo uses `{0}`",
            legacy.display(),
            modern.display()
        )
    } else {
        format!(
            "`{}` is deprecated in favour of `config.toml`",
            legacy.display()
        )
    });
    Some(legacy)
}

/// One entry of a config file's `include` list.
#[derive(Deserialize)]
#[serde(untagged)]
enum Include {
    /// A path.
    Path(String),
    /// A path that may be missing when `optional`.
    Table {
        path: String,
        #[serde(default)]
        optional: bool,
    },
}

/// Reads one config file and, before it (they rank below it), the files
/// its `include` key names, in order, each with its own includes (paths
/// relative to the including file; docs/helper-notes.md).
fn read_with_includes(
    path: &Path,
    root: &Path,
    cargo_home: Option<&Path>,
    stack: &mut Vec<PathBuf>,
    out: &mut Vec<Layer>,
) -> Result<(), Error> {
    let source = source_name(path, root, cargo_home);
    let table = read_toml(path, &source)?;
    let normal = normalise(path);
    if stack.contains(&normal) {
        return Err(Error::key(&source, "include", "includes itself (a cycle)"));
    }
    stack.push(normal);
    if let Some(include) = table.get("include") {
        let items: Vec<Include> = include.clone().try_into().map_err(|_| {
            let message = "must be a list of paths or of tables with `path` (and `optional`)";
            Error::key(&source, "include", message)
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for item in items {
            let (file, optional) = match item {
                Include::Path(file) => (file, false),
                Include::Table { path, optional } => (path, optional),
            };
            let included = dir.join(&file);
            if included.is_file() {
                read_with_includes(&included, root, cargo_home, stack, out)?;
            } else if !optional {
                let message = format!("names `{file}`, which does not exist");
                return Err(Error::key(&source, "include", message));
            }
        }
    }
    stack.pop();
    out.push(Layer {
        source,
        kind: Kind::File,
        table,
    });
    Ok(())
}

/// Reads and parses config file `path`, named `source`.
fn read_toml(path: &Path, source: &str) -> Result<toml::Table, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid(format!("{source}: could not read: {e}")))?;
    parse_toml(&text, source)
}

/// Parses the text of config file or `--config` value `source`.
fn parse_toml(text: &str, source: &str) -> Result<toml::Table, Error> {
    toml::from_str(text).map_err(|e| Error::toml(source, e))
}

/// Makes a path absolute and resolves symlinks where it exists, so that
/// two spellings of one directory compare equal.
pub(crate) fn normalise(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// How the plan names a config file: `$CARGO_HOME/config.toml` for the
/// cargo home's file, otherwise the path relative to the workspace root
/// (`.cargo/config.toml`, `../.cargo/config.toml`, ...).
pub(crate) fn source_name(path: &Path, root: &Path, cargo_home: Option<&Path>) -> String {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let (Some(home), Some(parent)) = (cargo_home, path.parent()) {
        if normalise(home) == normalise(parent) {
            return format!("$CARGO_HOME/{file_name}");
        }
    }
    let (path, root) = (normalise(path), normalise(root));
    pathdiff::diff_paths(&path, &root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// Looks up a dotted path of table keys.
pub(crate) fn get<'a>(table: &'a toml::Table, path: &[&str]) -> Option<&'a toml::Value> {
    let (last, parents) = path.split_last()?;
    let parent = parents
        .iter()
        .try_fold(table, |t, key| t.get(*key)?.as_table());
    parent?.get(*last)
}

/// The process environment as a map (for callers outside tests).
pub fn env_map() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_files_are_named_from_the_workspace_root() {
        let name = |p: &str, home| source_name(Path::new(p), Path::new("/nx/a/b/c"), home);
        assert_eq!(
            name("/nx/a/.cargo/config.toml", None),
            "../../.cargo/config.toml"
        );
        assert_eq!(
            name("/nx/a/b/c/.cargo/config.toml", None),
            ".cargo/config.toml"
        );
        let home = Some(Path::new("/nx/home"));
        assert_eq!(
            name("/nx/home/config.toml", home),
            "$CARGO_HOME/config.toml"
        );
    }
}
