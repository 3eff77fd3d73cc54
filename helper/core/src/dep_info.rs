//! Make-style dep-info files (`*.d`): rustc's, one per unit (naming itself as a
//! target), and cargo's, beside each uplifted artifact (absolute paths).

use std::fs;
use std::path::{Component, Path, PathBuf};

use walkdir::WalkDir;

/// One dep-info file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepInfo {
    /// The file.
    pub path: PathBuf,
    /// Whether rustc wrote it for one unit (else cargo, for an artifact).
    pub per_unit: bool,
    /// The first rule's prerequisites, absolute and normalized.
    pub inputs: Vec<PathBuf>,
}

/// `a/src/../../x` → `x`, lexically (no symlinks are followed).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            // `..` takes a component off, or stays when there is none.
            Component::ParentDir if !out.pop() => out.push(".."),
            Component::CurDir | Component::ParentDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Parses the dep-info file `path` with content `text`.
pub fn parse(path: &Path, text: &str, workspace_root: &Path) -> DepInfo {
    let own_name = path.file_name();
    let mut per_unit = false;
    let mut inputs = None;
    for line in text.lines() {
        let Some((target, deps)) = split_rule(line) else {
            continue;
        };
        let own = |t: &String| Path::new(t).file_name() == own_name && t.ends_with(".d");
        per_unit |= split_words(target).iter().any(own);
        if inputs.is_none() {
            let deps = split_words(deps).into_iter();
            inputs = Some(deps.map(|d| normalize(&workspace_root.join(d))).collect());
        }
    }
    DepInfo {
        path: path.to_path_buf(),
        per_unit,
        inputs: inputs.unwrap_or_default(),
    }
}

/// Every readable `*.d` file under `dir`, parsed.
pub fn find(dir: &Path, workspace_root: &Path) -> Vec<DepInfo> {
    let walk = WalkDir::new(dir).sort_by_file_name().into_iter();
    // Incremental-compilation directories hold none.
    let entries = (walk.filter_entry(|e| e.file_name() != "incremental")).flatten();
    let files = entries.filter(|e| e.path().extension().is_some_and(|x| x == "d"));
    let read = |p: &Path| Some(parse(p, &fs::read_to_string(p).ok()?, workspace_root));
    files.filter_map(|e| read(e.path())).collect()
}

/// `target: deps` on the first unescaped `: `.
fn split_rule(line: &str) -> Option<(&str, &str)> {
    let b = line.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == b':' && (b[i + 1] == b' ' || i + 2 == b.len()) {
            return Some((&line[..i], &line[i + 1..]));
        }
        i += 1;
    }
    line.strip_suffix(':').map(|t| (t, ""))
}

/// Whitespace-separated words, `\ ` kept as a space.
fn split_words(s: &str) -> Vec<String> {
    let (mut words, mut cur) = (Vec::new(), String::new());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.extend(chars.next()),
            c if c.is_whitespace() => words.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    words.push(cur);
    words.retain(|w| !w.is_empty());
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_rules() {
        assert_eq!(
            split_rule("/t/a.d: src/a b.rs"),
            Some(("/t/a.d", " src/a b.rs"))
        );
        assert_eq!(
            split_words(r"src/a\ b.rs /x/c.rs"),
            vec!["src/a b.rs", "/x/c.rs"]
        );
        assert_eq!(split_rule("src/lib.rs:"), Some(("src/lib.rs", "")));
        assert_eq!(split_rule("# env-dep:X=1"), None);
    }

    #[test]
    fn rustc_and_cargo_files_are_told_apart_and_paths_resolved() {
        let root = Path::new("/w");
        // rustc, 1.95 layout: relative member paths, the .d names itself.
        let rustc = "/w/target/debug/deps/a-1.d: a/src/lib.rs a/src/../../shared.txt\n\n\
                     /w/target/debug/deps/liba-1.rlib: a/src/lib.rs a/src/../../shared.txt\n\n\
                     a/src/lib.rs:\na/src/../../shared.txt:\n";
        let d = parse(Path::new("/w/target/debug/deps/a-1.d"), rustc, root);
        assert!(d.per_unit);
        assert_eq!(
            d.inputs,
            vec![
                PathBuf::from("/w/a/src/lib.rs"),
                PathBuf::from("/w/shared.txt")
            ]
        );
        // cargo's, next to an uplifted artifact: absolute, no self rule.
        let cargo = "/w/target/debug/liba.rlib: /w/a/src/lib.rs /w/b/build.rs\n";
        let d = parse(Path::new("/w/target/debug/liba.d"), cargo, root);
        assert!(!d.per_unit);
        assert_eq!(d.inputs.len(), 2);
        assert_eq!(normalize(Path::new("../x/./y")), PathBuf::from("../x/y"));
    }

    #[test]
    fn find_walks_both_layouts() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        for (rel, text) in [
            ("debug/deps/a-1.d", "X/debug/deps/a-1.d: a/src/lib.rs\n"),
            (
                "debug/build/b/0123/out/b-0123.d",
                "X/debug/build/b/0123/out/b-0123.d: b/src/lib.rs\n",
            ),
            ("debug/liba.d", "X/debug/liba.rlib: /w/a/src/lib.rs\n"),
            ("debug/incremental/a-x/s.d", "nothing: here\n"),
        ] {
            let p = t.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text.replace('X', &t.display().to_string())).unwrap();
        }
        let found = find(t, Path::new("/w"));
        let per_unit: Vec<bool> = found.iter().map(|d| d.per_unit).collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(per_unit, vec![true, true, false]);
    }
}
