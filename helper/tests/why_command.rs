//! `cargo buildplan why` end to end: a real offline build of a small
//! workspace with one crates.io dependency (`itoa`, from the local registry
//! cache into a private `CARGO_HOME`), then the `--fresh` gate after a
//! member edit (passes) and after a rustflags change (fails, naming itoa),
//! and a saved log cargo did not write (bad input, exit 2).

mod common;
mod registry;

use std::path::Path;
use std::process::{Command, Output};

use common::{describe as text, write, CARGO_NOISE};

fn why(ws: &Path, home: &Path, args: &[&str], rustflags: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-buildplan"));
    cmd.arg("why").args(args).current_dir(ws);
    cmd.env("CARGO_HOME", home);
    for var in CARGO_NOISE {
        cmd.env_remove(var);
    }
    if let Some(flags) = rustflags {
        cmd.env("RUSTFLAGS", flags);
    }
    cmd.output().unwrap()
}

#[test]
fn the_fresh_gate_passes_a_member_edit_and_fails_a_rustflags_change() {
    let tmp = tempfile::tempdir().unwrap();
    let main = |n: u8| {
        format!("fn main() {{\n    println!(\"{{}}\", itoa::Buffer::new().format({n}u8));\n}}\n")
    };
    let (ws, home, itoa) = registry::itoa_app(tmp.path(), &main(1));
    let write = |rel: &str, body: &str| write(&ws, rel, body);
    let build = ["--", "build", "--offline"];
    let first = why(&ws, &home, &build, None);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert!(
        String::from_utf8_lossy(&first.stdout).contains("itoa"),
        "{}",
        text(&first)
    );

    write("src/main.rs", &main(2));
    let fresh = ["--fresh", "--", "build", "--offline"];
    let edit = why(&ws, &home, &fresh, None);
    assert_eq!(edit.status.code(), Some(0), "{}", text(&edit));
    assert!(
        String::from_utf8_lossy(&edit.stdout).contains("app"),
        "{}",
        text(&edit)
    );

    let flags = why(&ws, &home, &fresh, Some("--cfg buildplan_why_test"));
    assert_eq!(flags.status.code(), Some(1), "{}", text(&flags));
    let err = String::from_utf8_lossy(&flags.stderr);
    assert!(err.contains(&format!("itoa@{itoa}")), "{}", text(&flags));
    assert!(err.contains("rustflags"), "{}", text(&flags));
    // `audit --fresh` is the same gate: other rustflags, itoa compiles
    // again and the gate fails.
    let mut audit = Command::new(env!("CARGO_BIN_EXE_cargo-buildplan"));
    audit
        .args(["audit", "--fresh", "--", "build", "--offline"])
        .current_dir(&ws)
        .env("CARGO_HOME", &home)
        .env("RUSTFLAGS", "--cfg buildplan_audit_test")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR");
    let audit = audit.output().unwrap();
    assert_eq!(audit.status.code(), Some(1), "{}", text(&audit));
    assert!(
        String::from_utf8_lossy(&audit.stderr).contains(&format!("itoa@{itoa}")),
        "{}",
        text(&audit)
    );

    // A stderr not from `cargo -v`, with real messages of a build that
    // compiled something: bad input, nothing explained.
    write("src/main.rs", &main(3));
    let messages = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--offline", "--message-format", "json"])
        .current_dir(&ws)
        .env("CARGO_HOME", &home)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .unwrap();
    assert!(messages.status.success(), "{}", text(&messages));
    write("saved.json", &String::from_utf8_lossy(&messages.stdout));
    write("saved.log", "hello\nthis is not cargo\n");
    let bad = why(
        &ws,
        &home,
        &["--log", "saved.log", "--messages", "saved.json"],
        None,
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not from `cargo -v`"),
        "{}",
        text(&bad)
    );
}
