//! `doctor --write`: a finding's fix written into the file the setting
//! lives in, with `toml_edit` so the rest of the file keeps its formatting.

use std::collections::BTreeMap;
use std::path::Path;

use super::findings::{Finding, Kind};
use crate::error::Error;

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
                .map_err(|e| Error::Toml {
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
        set(doc.as_item_mut(), &path, edit_value(&fix.value)).map_err(|message| Error::Key {
            file: f.source.clone(),
            key: path.join("."),
            message,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
