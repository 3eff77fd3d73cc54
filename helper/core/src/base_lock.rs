//! Whether `nix/base.lock` still fits Cargo.lock: third-party versions may lag,
//! members and their dependency names may not.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::error::Error;

/// One `[[package]]` of a Cargo.lock.
#[derive(Debug, Clone, Deserialize)]
pub struct LockPackage {
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Its source; `None` for a path package (a workspace member).
    pub source: Option<String>,
    /// Its dependencies, `name` or `name version`.
    #[serde(default)]
    pub dependencies: Vec<String>,
}

/// The packages of the Cargo.lock `text` (`file` names it in errors).
pub fn packages(text: &str, file: &str) -> Result<Vec<LockPackage>, Error> {
    #[derive(Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<LockPackage>,
    }
    let lock: Lock = toml::from_str(text).map_err(|e| Error::toml(file, e))?;
    Ok(lock.package)
}

/// Each workspace member with the names of its dependencies.
pub type Members = BTreeMap<String, BTreeSet<String>>;

/// The members of the lock `text` (`file` names it in errors).
pub fn members(text: &str, file: &str) -> Result<Members, Error> {
    let members = packages(text, file)?
        .into_iter()
        .filter(|p| p.source.is_none());
    let name = |d: &String| d.split_whitespace().next().map(str::to_string);
    let deps = |p: &LockPackage| p.dependencies.iter().filter_map(name).collect();
    Ok(members.map(|p| (p.name.clone(), deps(&p))).collect())
}

/// Why `base` does not fit `current`, one line per member.
pub fn misfits(base: &Members, current: &Members) -> Vec<String> {
    let mut out = Vec::new();
    for (name, deps) in current {
        match base.get(name) {
            None => out.push(format!("member {name} is not in the base lock")),
            Some(old) if old != deps => {
                let added: Vec<&str> = deps.difference(old).map(String::as_str).collect();
                let removed: Vec<&str> = old.difference(deps).map(String::as_str).collect();
                out.push(format!(
                    "member {name}: dependencies differ (added: {}; removed: {})",
                    list(&added),
                    list(&removed)
                ));
            }
            Some(_) => {}
        }
    }
    for name in base.keys().filter(|n| !current.contains_key(*n)) {
        out.push(format!("member {name} is only in the base lock"));
    }
    out
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["itoa", "serde 1.0.1"]

[[package]]
name = "itoa"
version = "1.0.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#;

    #[test]
    fn members_have_dependency_names_without_versions() {
        let m = members(LOCK, "Cargo.lock").unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m["app"].iter().collect::<Vec<_>>(), vec!["itoa", "serde"]);
    }

    #[test]
    fn a_version_bump_fits_a_new_dependency_does_not() {
        let base = members(LOCK, "base").unwrap();
        let bumped = LOCK
            .replace("1.0.0", "1.0.9")
            .replace("serde 1.0.1", "serde 1.0.2");
        assert!(misfits(&base, &members(&bumped, "cur").unwrap()).is_empty());
        let grown = LOCK.replace("\"itoa\", ", "\"itoa\", \"ryu\", ");
        let why = misfits(&base, &members(&grown, "cur").unwrap());
        assert_eq!(
            why,
            vec!["member app: dependencies differ (added: ryu; removed: none)"]
        );
        let renamed = LOCK.replace("name = \"app\"", "name = \"web\"");
        let why = misfits(&base, &members(&renamed, "cur").unwrap());
        assert_eq!(
            why,
            vec![
                "member web is not in the base lock",
                "member app is only in the base lock"
            ]
        );
    }

    #[test]
    fn a_lock_that_is_not_toml_is_bad_input() {
        let e = members("[[package]\n", "nix/base.lock").unwrap_err();
        assert!(
            e.to_string().starts_with("nix/base.lock: not valid TOML"),
            "{e}"
        );
    }
}
