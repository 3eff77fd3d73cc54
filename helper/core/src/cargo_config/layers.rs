//! Finding and reading the layers cargo reads: `.cargo/config.toml` (or the
//! legacy `.cargo/config`) in the directory cargo runs in and every parent,
//! `$CARGO_HOME/config.toml` unless met on the way up, then `--config` values;
//! what they are read from ([`Inputs`]) and into ([`CargoConfig`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::keys::Tables;
use crate::error::Error;

/// Everything cargo's configuration depends on.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Where cargo runs: config files are searched from here and named relative to it.
    pub workspace_root: PathBuf,
    /// The root manifest's `[profile]` table, if it has one.
    pub manifest_profiles: Option<toml::Table>,
    /// `$CARGO_HOME`; when `None`, from `env` (`CARGO_HOME`, else `$HOME/.cargo`).
    pub cargo_home: Option<PathBuf>,
    /// The environment cargo will run with.
    pub env: BTreeMap<String, String>,
    /// `--config` values in command-line order (`KEY=VALUE` TOML, or a file's path).
    pub cli_config: Vec<String>,
    /// Read only the config files at or below the root (for the committed plan).
    pub workspace_only: bool,
}

/// Cargo's configuration for one workspace, read and checked.
#[derive(Debug, Clone)]
pub struct CargoConfig {
    /// Config files, lowest precedence first, then `--config` values.
    pub(super) layers: Vec<Layer>,
    /// Every layer's `[profile.NAME]` tables, by NAME.
    pub(super) profile_tables: Tables,
    pub(super) env: BTreeMap<String, String>,
    pub(super) warnings: Vec<String>,
}

/// The variable cargo reads for config key `path` (`build.jobs`:
/// `CARGO_BUILD_JOBS`): upper case, `-` and `.` as `_`.
pub(super) fn env_var(path: &[&str]) -> String {
    let key = path.join("_").to_uppercase().replace(['-', '.'], "_");
    format!("CARGO_{key}")
}

/// One configuration file or `--config` value, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    /// The name the plan uses for it (see [`source_name`]).
    pub source: String,
    /// Whether it is a `--config` value (else a config file).
    pub cli: bool,
    /// Its contents.
    pub table: toml::Table,
}

/// The layers cargo reads in the workspace root, lowest precedence first
/// (as the module doc lists them), and the warnings cargo would print.
pub(crate) fn discover(inputs: &Inputs) -> Result<(Vec<Layer>, Vec<String>), Error> {
    let (root, env) = (normalise(&inputs.workspace_root), &inputs.env);
    let home = (inputs.cargo_home.clone())
        .or_else(|| env.get("CARGO_HOME").map(PathBuf::from))
        .or_else(|| env.get("HOME").map(|h| Path::new(h).join(".cargo")))
        .filter(|_| !inputs.workspace_only);
    let depth = if inputs.workspace_only { 1 } else { usize::MAX };
    let mut dirs: Vec<PathBuf> = root
        .ancestors()
        .take(depth)
        .map(|d| d.join(".cargo"))
        .collect();
    let seen = |home: &&PathBuf| dirs.iter().any(|d| normalise(d) == normalise(home));
    if let Some(home) = home.as_ref().filter(|h| !seen(h)) {
        dirs.push(home.clone());
    }
    let mut warnings = Vec::new();
    let files: Vec<PathBuf> = dirs.iter().filter_map(|d| pick(d, &mut warnings)).collect();
    let name = |path: &Path| source_name(path, &root, home.as_deref());
    let mut layers = Vec::new();
    for path in files.iter().rev() {
        read_with_includes(path, &name, &mut Vec::new(), &mut layers)?;
    }
    for arg in &inputs.cli_config {
        let (file, source) = (root.join(arg), format!("--config {arg}"));
        let table = match !arg.contains('=') && file.is_file() {
            true => read_toml(&file, &source)?,
            false => parse_toml(arg, &source)?,
        };
        layers.push(Layer {
            source,
            cli: true,
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
    let (old, new) = (legacy.display(), modern.display());
    warnings.push(match modern.is_file() {
        true => format!("both `{old}` and `{new}` exist; cargo uses `{old}`"),
        false => format!("`{old}` is deprecated in favour of `config.toml`"),
    });
    Some(legacy)
}

/// One entry of a config file's `include` list: a path, or a table with a
/// path that may be missing when `optional`.
#[derive(Deserialize)]
#[serde(untagged)]
enum Include {
    Path(String),
    Table {
        path: String,
        #[serde(default)]
        optional: bool,
    },
}

/// Reads one config file (named by `name`) after the files its `include`
/// key names, recursively (they rank below it; docs/helper-notes.md).
fn read_with_includes(
    path: &Path,
    name: &dyn Fn(&Path) -> String,
    stack: &mut Vec<PathBuf>,
    out: &mut Vec<Layer>,
) -> Result<(), Error> {
    let source = name(path);
    let table = read_toml(path, &source)?;
    let bad = |message: &str| Error::key(&source, "include", message);
    if stack.contains(&normalise(path)) {
        return Err(bad("includes itself (a cycle)"));
    }
    stack.push(normalise(path));
    let include = table.get("include").cloned().map(toml::Value::try_into);
    let include: Vec<Include> = include
        .unwrap_or(Ok(Vec::new()))
        .map_err(|_| bad("must be a list of paths or of tables with `path` (and `optional`)"))?;
    for item in include {
        let (file, optional) = match item {
            Include::Path(file) => (file, false),
            Include::Table { path, optional } => (path, optional),
        };
        let included = path.parent().unwrap_or(Path::new(".")).join(&file);
        if included.is_file() {
            read_with_includes(&included, name, stack, out)?;
        } else if !optional {
            return Err(bad(&format!("names `{file}`, which does not exist")));
        }
    }
    stack.pop();
    out.push(Layer {
        source,
        cli: false,
        table,
    });
    Ok(())
}

/// Reads and parses config file `path`, named `source`.
fn read_toml(path: &Path, source: &str) -> Result<toml::Table, Error> {
    let text = std::fs::read_to_string(path);
    let text = text.map_err(|e| Error::io(Path::new(source), format!("could not read: {e}")))?;
    parse_toml(&text, source)
}

/// Parses config file or `--config` value `source`.
fn parse_toml(text: &str, source: &str) -> Result<toml::Table, Error> {
    toml::from_str(text).map_err(|e| Error::toml(source, e))
}

/// Makes a path absolute and resolves symlinks where it exists, so that
/// two spellings of one directory compare equal.
fn normalise(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// How the plan names a config file: `$CARGO_HOME/config.toml`, else the
/// path relative to the workspace root (`../.cargo/config.toml`).
fn source_name(path: &Path, root: &Path, cargo_home: Option<&Path>) -> String {
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    if let (Some(home), Some(parent)) = (cargo_home, path.parent()) {
        if normalise(home) == normalise(parent) {
            return format!("$CARGO_HOME/{file_name}");
        }
    }
    let (path, root) = (normalise(path), normalise(root));
    let relative = pathdiff::diff_paths(&path, &root).unwrap_or(path);
    relative.to_string_lossy().into_owned()
}

/// Looks up a dotted path of table keys.
pub(crate) fn get<'a>(table: &'a toml::Table, path: &[&str]) -> Option<&'a toml::Value> {
    let (last, parents) = path.split_last()?;
    let parent = (parents.iter()).try_fold(table, |t, key| t.get(*key)?.as_table());
    parent?.get(*last)
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
