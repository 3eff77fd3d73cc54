//! `cargo buildplan build --deps-cache DIR --members` with real cargo builds
//! of `tests/fixtures/members` (bottom <- middle <- top; `side` reads a file
//! outside its directory; `lone` has a build script without rerun-if
//! directives; `middle`'s build script reruns on a directory and a variable).
//!
//! Each case warms nothing itself: it starts from a fresh copy of the
//! workspace (every file with a new mtime, as a checkout gives) and a copy of
//! the cache warmed once from the pristine workspace, makes one change, and
//! builds. What compiled is read by `cargo buildplan why --fresh --json`
//! from the build's `-v` output and JSON messages (and must agree with the
//! messages alone, on cargo 1.95 and 1.100); the binary's output
//! shows the change arrived (no stale unit).

mod common;
mod member_lab;

use std::fs;
use std::path::Path;

use member_lab::{append, cmd, stderr, text, Lab, ALL};

fn edits_at_the_same_path(toolchain: &'static str) {
    let lab = Lab::new(toolchain);
    let ws = lab.ws.clone();
    let middle_and_top = ["middle:middle", "top:top"];

    // No change: nothing compiles, nothing is saved again.
    let b = lab.expect(&ws, |_| {}, &[], &[]);
    assert!(stderr(&b).contains("unchanged source files given their recorded mtimes, 0 changed"));
    assert!(
        !stderr(&b).contains("deps cache: saved"),
        "{}",
        text(&b.out)
    );
    assert_eq!(lab.run_top(&ws), "22 2 plain 7 11:shared-one lone");

    // Same size, new content, and the old mtime back (a copy that keeps
    // times): still an edit.
    let same_size_edit = |ws: &Path| {
        let util = ws.join("bottom/src/util.rs");
        let old = fs::metadata(lab.src.join("bottom/src/util.rs"))
            .unwrap()
            .modified()
            .unwrap();
        let before = fs::read_to_string(&util).unwrap();
        let after = before.replace("ONE: u32 = 1", "ONE: u32 = 2");
        assert_eq!(before.len(), after.len());
        fs::write(&util, after).unwrap();
        fs::File::options()
            .write(true)
            .open(&util)
            .unwrap()
            .set_modified(old)
            .unwrap();
    };
    let all_but_lone = ["bottom:bottom", "middle:middle", "side:side", "top:top"];
    let b = lab.expect(&ws, same_size_edit, &[], &all_but_lone);
    assert!(stderr(&b).contains("deps cache: saved"), "{}", text(&b.out));
    assert_eq!(lab.run_top(&ws), "24 2 plain 7 12:shared-one lone");

    // A build script edit: the script is compiled and run again.
    let script_edit = |ws: &Path| {
        let script = ws.join("middle/build.rs");
        let s = fs::read_to_string(&script)
            .unwrap()
            .replace("SCRIPT: u32 = 7", "SCRIPT: u32 = 8");
        fs::write(script, s).unwrap();
    };
    let script_and_top = ["middle:build-script-build", "middle:middle", "top:top"];
    lab.expect(&ws, script_edit, &[], &script_and_top);
    assert_eq!(lab.run_top(&ws), "22 2 plain 8 11:shared-one lone");

    // A rerun-if-env-changed variable: the script reruns (not recompiled).
    lab.expect(&ws, |_| {}, &[("MIDDLE_FLAVOR", "spicy")], &middle_and_top);
    assert_eq!(lab.run_top(&ws), "22 2 spicy 7 11:shared-one lone");

    // A file added to a rerun-if-changed directory, and one removed.
    let added = |ws: &Path| fs::write(ws.join("middle/assets/c.txt"), "c\n").unwrap();
    lab.expect(&ws, added, &[], &middle_and_top);
    assert_eq!(lab.run_top(&ws), "22 3 plain 7 11:shared-one lone");
    let removed = |ws: &Path| fs::remove_file(ws.join("middle/assets/b.txt")).unwrap();
    lab.expect(&ws, removed, &[], &middle_and_top);
    assert_eq!(lab.run_top(&ws), "22 1 plain 7 11:shared-one lone");

    // A file added to a package whose build script names no inputs: cargo
    // reruns it (any package file), so lone compiles; a removed source file
    // that is still named fails the build instead of passing as fresh.
    let lone_and_top = ["lone:lone", "top:top"];
    let added = |ws: &Path| fs::write(ws.join("lone/notes.txt"), "new\n").unwrap();
    lab.expect(&ws, added, &[], &lone_and_top);
    let appended = |ws: &Path| append(&ws.join("lone/README.md"), "More notes.\n");
    lab.expect(&ws, appended, &[], &lone_and_top);
    lab.case(&ws, |ws| {
        fs::remove_file(ws.join("bottom/src/util.rs")).unwrap()
    });
    let gone = cmd(&ws, toolchain)
        .args(["build", "top", "--deps-cache"])
        .arg(&lab.cache)
        .arg("--members")
        .output()
        .unwrap();
    assert_eq!(gone.status.code(), Some(1), "{}", text(&gone));
    let err = String::from_utf8_lossy(&gone.stderr);
    assert!(
        err.contains("1 gone") && err.contains("util.rs"),
        "{}",
        text(&gone)
    );
}

#[test]
fn unchanged_members_are_fresh_after_a_checkout_and_changed_ones_never() {
    edits_at_the_same_path("1.95.0");
}

/// cargo 1.100's build-directory layout keeps rustc's dep-info elsewhere.
#[test]
fn the_same_with_cargo_1_100s_layout() {
    let lab = Lab::new("1.100.0");
    let ws = lab.ws.clone();
    lab.expect(&ws, |_| {}, &[], &[]);
    let edit = |ws: &Path| append(&ws.join("bottom/src/lib.rs"), "pub fn more() {}\n");
    let all_but_lone = ["bottom:bottom", "middle:middle", "side:side", "top:top"];
    lab.expect(&ws, edit, &[], &all_but_lone);
    // Another toolchain: the entry is stale and everything compiles.
    let other = Lab {
        toolchain: "1.95.0",
        ..lab
    };
    let b = other.expect(&ws, |_| {}, &[], ALL);
    assert!(
        stderr(&b).contains("stale (toolchain differ)"),
        "{}",
        text(&b.out)
    );
}

/// At another path, with the warm checkout still in place: cargo records
/// `side`'s `../shared.txt` by absolute path, so side is held back (and
/// compiles) while the rest is fresh; an edit of shared.txt reaches the
/// binary.
#[test]
fn a_checkout_at_another_path() {
    let lab = Lab::new("1.95.0");
    let elsewhere = lab.ws.parent().unwrap().join("elsewhere/ws");
    let side_and_top = ["side:side", "top:top"];
    // The warm checkout stays where it was built, untouched: the shared
    // file's edit must still reach the binary.
    let edit = |ws: &Path| fs::write(ws.join("shared.txt"), "shared-two\n").unwrap();
    lab.expect(&elsewhere, edit, &[], &side_and_top);
    assert_eq!(lab.run_top(&elsewhere), "22 2 plain 7 11:shared-two lone");

    // No change: side (and top) still compile, the rest is fresh.
    let b = lab.expect(&elsewhere, |_| {}, &[], &side_and_top);
    assert!(
        stderr(&b).contains("left new: the checkout moved"),
        "{}",
        text(&b.out)
    );

    let edit = |ws: &Path| append(&ws.join("middle/src/lib.rs"), "pub fn more() {}\n");
    let compiled = ["middle:middle", "side:side", "top:top"];
    lab.expect(&elsewhere, edit, &[], &compiled);
}
