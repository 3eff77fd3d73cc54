//! `doctor --write`: a finding's fix written into the file the setting
//! lives in, with `toml_edit` so the rest of the file keeps its formatting.

use std::collections::BTreeMap;
use std::path::Path;

use toml_edit::{DocumentMut, Item};

use super::findings::{Finding, Kind};
use crate::error::Error;

/// Writes the fixes of `findings` (trade-offs only with `trade_offs`) into
/// the workspace's files; one line per finding: written, or why not.
pub fn apply(root: &Path, findings: &[Finding], trade_offs: bool) -> Result<Vec<String>, Error> {
    let mut docs: BTreeMap<&str, DocumentMut> = BTreeMap::new();
    let mut lines = Vec::new();
    for f in findings {
        let what = format!("{}.{} ({})", f.profile, f.key, f.source);
        let not_written = match &f.fix {
            None => Some("no one-key fix"),
            Some(_) if f.kind == Kind::TradeOff && !trade_offs => {
                Some("a trade-off (--trade-offs writes it)")
            }
            Some(_)
                if crate::config::is_machine_local(&f.source)
                    || f.source.starts_with("--config") =>
            {
                Some("set outside the workspace's files; change it there")
            }
            Some(_) => None,
        };
        let (Some(fix), None) = (&f.fix, not_written) else {
            let reason = not_written.expect("a finding without a fix is not written");
            lines.push(format!("not written: {what}: {reason}"));
            continue;
        };
        let path = root.join(&f.source);
        let io = |e| Error::io(&path, e);
        if !docs.contains_key(f.source.as_str()) {
            let text = std::fs::read_to_string(&path).map_err(io)?;
            let doc = (text.parse::<DocumentMut>())
                .map_err(|e| Error::toml(&path.display().to_string(), e))?;
            docs.insert(&f.source, doc);
        }
        let key: Vec<&str> = ["profile", &f.profile]
            .into_iter()
            .chain(fix.key.iter().map(String::as_str))
            .collect();
        let doc = docs.get_mut(f.source.as_str()).expect("just inserted");
        set(doc.as_item_mut(), &key, edit_value(&fix.value))
            .map_err(|message| Error::key(&f.source, key.join("."), message))?;
        lines.push(format!(
            "wrote {}.{} = {} in {}",
            f.profile,
            fix.key.join("."),
            fix.value,
            f.source
        ));
    }
    for (source, doc) in docs {
        let path = root.join(source);
        std::fs::write(&path, doc.to_string()).map_err(|e| Error::io(&path, e))?;
    }
    Ok(lines)
}

/// Sets the value at `path` below `item`, keeping its comments and creating
/// missing tables; an error when a step on the way is not a table.
fn set(item: &mut Item, path: &[&str], mut value: toml_edit::Value) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut current = item;
    for part in parents {
        let table = current
            .as_table_like_mut()
            .ok_or_else(|| format!("cannot be written: `{part}`'s parent is not a table"))?;
        current = table.entry(part).or_insert(toml_edit::table());
    }
    let table = current
        .as_table_like_mut()
        .ok_or("cannot be written: its parent is not a table")?;
    match table.get_mut(last) {
        // Replaced in place, so that the key keeps its own comments.
        Some(old) => {
            if let Some(v) = old.as_value() {
                *value.decor_mut() = v.decor().clone();
            }
            *old = Item::Value(value);
        }
        None => {
            table.insert(last, Item::Value(value));
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
        let mut doc: DocumentMut = text.parse().unwrap();
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
