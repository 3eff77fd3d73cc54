//! The doctor: settings that cost build time or memory for no runtime gain
//! ([`diagnose`]) and their fixes ([`apply`], `doctor --write`, by `toml_edit`).

mod findings;

use std::{collections::BTreeMap, path::Path};

use toml_edit::{DocumentMut, Item};

use crate::error::Error;
pub use findings::{diagnose, Finding, Fix, Kind, Machine};

/// The findings in words, one block each, and a summary line.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let (profile, source, kind) = (&f.profile, &f.source, f.kind.label());
        out += &format!("{profile}.{} = {} (from {source})\n", f.key, f.value);
        out += &format!("  {}\n  cost: {}\n", f.why, f.cost);
        out += &match &f.fix {
            Some(fix) => format!(
                "  fix: {} = {} in [profile.{profile}] of {source}: {kind}\n",
                fix.key.join("."),
                fix.value
            ),
            None => format!("  fix: by hand: {kind}\n"),
        };
    }
    let unchanged = findings.iter().filter(|f| f.kind == Kind::NoChange).count();
    let trade_offs = findings.len() - unchanged;
    out += &format!(
        "{} finding(s): {unchanged} with no runtime change, {trade_offs} trade-off(s)\n",
        findings.len()
    );
    out
}

/// Writes `findings`' fixes (trade-offs if `trade_offs`); one line each: written, or why not.
pub fn apply(root: &Path, findings: &[Finding], trade_offs: bool) -> Result<Vec<String>, Error> {
    let mut docs: BTreeMap<&str, DocumentMut> = BTreeMap::new();
    let mut lines = Vec::new();
    for f in findings {
        let (profile, source) = (&f.profile, &f.source);
        let outside = crate::config::is_machine_local(source) || source.starts_with("--config");
        let reason = match &f.fix {
            None => Some("no one-key fix"),
            Some(_) if f.kind == Kind::TradeOff && !trade_offs => {
                Some("a trade-off (--trade-offs writes it)")
            }
            Some(_) if outside => Some("set outside the workspace's files; change it there"),
            Some(_) => None,
        };
        let (Some(fix), None) = (&f.fix, reason) else {
            let (key, reason) = (&f.key, reason.unwrap_or_default());
            lines.push(format!("not written: {profile}.{key} ({source}): {reason}"));
            continue;
        };
        let path = root.join(&f.source);
        if !docs.contains_key(f.source.as_str()) {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let doc = (text.parse::<DocumentMut>())
                .map_err(|e| Error::toml(&path.display().to_string(), e))?;
            docs.insert(&f.source, doc);
        }
        let mut key = vec!["profile", profile];
        key.extend(fix.key.iter().map(String::as_str));
        let doc = docs.get_mut(f.source.as_str()).expect("just inserted");
        let value = fix.value.to_string().parse().expect("a TOML value");
        set(doc.as_item_mut(), &key, value)
            .map_err(|message| Error::key(&f.source, key.join("."), message))?;
        let (key, value) = (fix.key.join("."), &fix.value);
        lines.push(format!("wrote {profile}.{key} = {value} in {source}"));
    }
    for (source, doc) in docs {
        let path = root.join(source);
        std::fs::write(&path, doc.to_string()).map_err(|e| Error::io(&path, e))?;
    }
    Ok(lines)
}

/// Sets `path` below `item`, keeping comments, creating tables; errs on a non-table step.
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
