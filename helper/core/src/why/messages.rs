//! cargo's JSON messages: one `compiler-artifact` per unit (not build script runs),
//! `"fresh": false` when cargo ran rustc for it.

use std::fmt::Display;
use std::path::PathBuf;

use cargo_metadata::{Artifact, Message};
use serde::Serialize;

use crate::error::Error;

/// Where a package comes from, from the source part of its package id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    /// `path+file://`: a workspace member or another local path package.
    Path,
    /// `registry+` or `sparse+` (also replaced or vendored registries).
    Registry,
    /// `git+`.
    Git,
    /// Any other source kind, as written.
    Other(String),
}

impl SourceKind {
    /// Whether code from this source is third-party (not local path code).
    pub fn is_third_party(&self) -> bool {
        *self != SourceKind::Path
    }
}

/// One unit of the build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// cargo's package id spec (`registry+https://…#itoa@1.0.19`).
    pub package_id: String,
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// The package's source.
    pub source: SourceKind,
    /// Target name (`itoa`, `build-script-build`).
    pub target: String,
    /// Target kinds (`lib`, `bin`, `custom-build`, `proc-macro`).
    pub kinds: Vec<String>,
    /// Whether the unit is a test harness build.
    pub test: bool,
    /// The files the unit produced.
    pub filenames: Vec<PathBuf>,
    /// `false` when cargo compiled the unit in this build.
    pub fresh: bool,
}

impl Unit {
    /// `name@version [target] [(test)]`, the target when not the package's.
    pub fn label(&self) -> String {
        let same = self.target.replace('-', "_") == self.name.replace('-', "_");
        let (space, target) = if same { ("", "") } else { (" ", &*self.target) };
        let test = if self.test { " (test)" } else { "" };
        format!("{}@{}{space}{target}{test}", self.name, self.version)
    }

    /// The unit of the `compiler-artifact` message on `line`.
    pub fn from_artifact(a: &Artifact, line: usize) -> Result<Unit, Error> {
        let id = &a.package_id.repr;
        let (source, name, version) = parse_package_id(id)
            .ok_or_else(|| bad_line(line, format!("unreadable package id `{id}`")))?;
        Ok(Unit {
            package_id: id.clone(),
            name,
            version,
            source,
            target: a.target.name.clone(),
            kinds: a.target.kind.iter().map(|k| k.to_string()).collect(),
            test: a.profile.test,
            filenames: a.filenames.iter().map(|f| f.clone().into()).collect(),
            fresh: a.fresh,
        })
    }
}

fn bad_line(line: usize, problem: impl Display) -> Error {
    Error::invalid(format!("cargo JSON message on line {line}: {problem}"))
}

/// (source kind, name, version) of a package id: `…#name@1.0` or `path+file:///w/name#1.0`.
fn parse_package_id(id: &str) -> Option<(SourceKind, String, String)> {
    let (url, fragment) = id.rsplit_once('#')?;
    let kind = match url.split_once('+')?.0 {
        "path" => SourceKind::Path,
        "registry" | "sparse" => SourceKind::Registry,
        "git" => SourceKind::Git,
        other => SourceKind::Other(other.to_string()),
    };
    let (name, version) = match fragment.split_once('@') {
        Some(name_version) => name_version,
        None => {
            let path = url.split('?').next()?.trim_end_matches('/');
            (path.rsplit('/').next()?, fragment)
        }
    };
    (!name.is_empty() && !version.is_empty()).then(|| (kind, name.into(), version.into()))
}

/// The cargo messages of `stdout` with their 1-based lines; a cut message or none is an error.
pub fn read(stdout: &str) -> Result<Vec<(usize, Message)>, Error> {
    let mut messages = Vec::new();
    for (n, msg) in (1..).zip(Message::parse_stream(stdout.as_bytes())) {
        match msg.map_err(|e| bad_line(n, e))? {
            Message::TextLine(line) if line.trim_start().starts_with('{') => {
                let cut = "a line starting with `{` is no cargo message (cut output?)";
                return Err(bad_line(n, cut));
            }
            Message::TextLine(_) => {}
            m => messages.push((n, m)),
        }
    }
    if messages.is_empty() {
        return Err(Error::invalid(
            "no cargo JSON message in the output; run cargo with --message-format json \
             and keep its standard output",
        ));
    }
    Ok(messages)
}

/// The units of `stdout`: every `compiler-artifact`, compiled or fresh.
pub fn units(stdout: &str) -> Result<Vec<Unit>, Error> {
    let artifacts = read(stdout)?.into_iter().filter_map(|(n, m)| match m {
        Message::CompilerArtifact(a) => Some(Unit::from_artifact(&a, n)),
        _ => None,
    });
    artifacts.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids() {
        assert_eq!(
            parse_package_id("path+file:///w/util#0.1.0"),
            Some((SourceKind::Path, "util".into(), "0.1.0".into()))
        );
        assert_eq!(
            parse_package_id("path+file:///w/x#util@0.1.0"),
            Some((SourceKind::Path, "util".into(), "0.1.0".into()))
        );
        assert_eq!(
            parse_package_id("registry+https://github.com/rust-lang/crates.io-index#itoa@1.0.19"),
            Some((SourceKind::Registry, "itoa".into(), "1.0.19".into()))
        );
        assert_eq!(parse_package_id("itoa 1.0.19"), None);
    }

    #[test]
    fn compiled_and_fresh_units() {
        let out = r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#itoa@1.0.19","manifest_path":"/r/Cargo.toml","target":{"kind":["lib"],"crate_types":["lib"],"name":"itoa","src_path":"/r/src/lib.rs"},"profile":{"opt_level":"0","debuginfo":0,"debug_assertions":true,"overflow_checks":true,"test":false},"features":[],"filenames":["/t/libitoa-1.rlib"],"executable":null,"fresh":true}
{"reason":"compiler-artifact","package_id":"path+file:///w/app#0.1.0","manifest_path":"/w/app/Cargo.toml","target":{"kind":["bin"],"crate_types":["bin"],"name":"app","src_path":"/w/app/src/main.rs"},"profile":{"opt_level":"0","debuginfo":0,"debug_assertions":true,"overflow_checks":true,"test":false},"features":[],"filenames":["/t/app"],"executable":"/t/app","fresh":false}
running 1 test
{"reason":"build-finished","success":true}
"#;
        let units = units(out).unwrap();
        assert_eq!(units.len(), 2);
        assert!(units[0].fresh && units[0].source.is_third_party());
        assert!(!units[1].fresh && !units[1].source.is_third_party());
        let none = super::units("   Compiling app\n").unwrap_err().to_string();
        assert!(
            none.starts_with("no cargo JSON message in the output"),
            "{none}"
        );
        let cut = super::units("{\"reason\":\"compiler-art").unwrap_err();
        assert!(
            cut.to_string()
                .starts_with("cargo JSON message on line 1: "),
            "{cut}"
        );
    }
}
