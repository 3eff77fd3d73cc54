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

use member_lab::{append, cmd, stderr, text, Lab, ALL};
fn edits_at_the_same_path(toolchain: &'static str) {
    let lab = Lab::new(toolchain);
    let ws = lab.ws.clone();

    // No change: nothing compiles, nothing is saved again.
    lab.case(&ws, |_| {});
    let b = lab.build(&[]);
    assert_eq!(b.compiled(), Vec::<&str>::new(), "{}", text(&b.out));
    assert!(stderr(&b).contains("unchanged source files given their recorded mtimes, 0 changed"));
    assert!(
        !stderr(&b).contains("deps cache: saved"),
        "{}",
        text(&b.out)
    );
    assert_eq!(lab.run_top(&ws), "22 2 plain 7 11:shared-one lone");

    // Same size, new content, and the old mtime back (a copy that keeps
    // times): still an edit.
    lab.case(&ws, |ws| {
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
    });
    let b = lab.build(&[]);
    assert_eq!(
        b.compiled(),
        ["bottom:bottom", "middle:middle", "side:side", "top:top"],
        "{}",
        text(&b.out)
    );
    assert!(stderr(&b).contains("deps cache: saved"), "{}", text(&b.out));
    assert_eq!(lab.run_top(&ws), "24 2 plain 7 12:shared-one lone");

    // A build script edit: the script is compiled and run again.
    lab.case(&ws, |ws| {
        let script = ws.join("middle/build.rs");
        let s = fs::read_to_string(&script)
            .unwrap()
            .replace("SCRIPT: u32 = 7", "SCRIPT: u32 = 8");
        fs::write(script, s).unwrap();
    });
    let b = lab.build(&[]);
    let middle_and_top = ["middle:build-script-build", "middle:middle", "top:top"];
    assert_eq!(b.compiled(), middle_and_top, "{}", text(&b.out));
    assert_eq!(lab.run_top(&ws), "22 2 plain 8 11:shared-one lone");

    // A rerun-if-env-changed variable: the script reruns (not recompiled).
    lab.case(&ws, |_| {});
    let b = lab.build(&[("MIDDLE_FLAVOR", "spicy")]);
    assert_eq!(
        b.compiled(),
        ["middle:middle", "top:top"],
        "{}",
        text(&b.out)
    );
    assert_eq!(lab.run_top(&ws), "22 2 spicy 7 11:shared-one lone");

    // A file added to a rerun-if-changed directory, and one removed.
    lab.case(&ws, |ws| {
        fs::write(ws.join("middle/assets/c.txt"), "c\n").unwrap()
    });
    let b = lab.build(&[]);
    assert_eq!(
        b.compiled(),
        ["middle:middle", "top:top"],
        "{}",
        text(&b.out)
    );
    assert_eq!(lab.run_top(&ws), "22 3 plain 7 11:shared-one lone");
    lab.case(&ws, |ws| {
        fs::remove_file(ws.join("middle/assets/b.txt")).unwrap()
    });
    let b = lab.build(&[]);
    assert_eq!(
        b.compiled(),
        ["middle:middle", "top:top"],
        "{}",
        text(&b.out)
    );
    assert_eq!(lab.run_top(&ws), "22 1 plain 7 11:shared-one lone");

    // A file added to a package whose build script names no inputs: cargo
    // reruns it (any package file), so lone compiles; a removed source file
    // that is still named fails the build instead of passing as fresh.
    lab.case(&ws, |ws| {
        fs::write(ws.join("lone/notes.txt"), "new\n").unwrap()
    });
    let b = lab.build(&[]);
    assert_eq!(b.compiled(), ["lone:lone", "top:top"], "{}", text(&b.out));
    lab.case(&ws, |ws| {
        append(&ws.join("lone/README.md"), "More notes.\n")
    });
    let b = lab.build(&[]);
    assert_eq!(b.compiled(), ["lone:lone", "top:top"], "{}", text(&b.out));
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
    lab.case(&ws, |_| {});
    let b = lab.build(&[]);
    assert_eq!(b.compiled(), Vec::<&str>::new(), "{}", text(&b.out));
    lab.case(&ws, |ws| {
        append(&ws.join("bottom/src/lib.rs"), "pub fn more() {}\n")
    });
    let b = lab.build(&[]);
    assert_eq!(
        b.compiled(),
        ["bottom:bottom", "middle:middle", "side:side", "top:top"],
        "{}",
        text(&b.out)
    );
    // Another toolchain: the entry is stale and everything compiles.
    let other = Lab {
        toolchain: "1.95.0",
        ..lab
    };
    other.case(&ws, |_| {});
    let b = other.build(&[]);
    assert!(
        stderr(&b).contains("stale (toolchain differ)"),
        "{}",
        text(&b.out)
    );
    assert_eq!(b.compiled(), ALL, "{}", text(&b.out));
}

/// At another path, with the warm checkout still in place: cargo records
/// `side`'s `../shared.txt` by absolute path, so side is held back (and
/// compiles) while the rest is fresh; an edit of shared.txt reaches the
/// binary.
#[test]
fn a_checkout_at_another_path() {
    let lab = Lab::new("1.95.0");
    let elsewhere = lab.ws.parent().unwrap().join("elsewhere/ws");
    // The warm checkout stays where it was built, untouched: the shared
    // file's edit must still reach the binary.
    lab.case(&elsewhere, |ws| {
        fs::write(ws.join("shared.txt"), "shared-two\n").unwrap()
    });
    let b = lab.build_in(&elsewhere, &lab.cache, &[]);
    assert_eq!(b.compiled(), ["side:side", "top:top"], "{}", text(&b.out));
    assert_eq!(lab.run_top(&elsewhere), "22 2 plain 7 11:shared-two lone");

    // No change: side (and top) still compile, the rest is fresh.
    lab.case(&elsewhere, |_| {});
    let b = lab.build_in(&elsewhere, &lab.cache, &[]);
    assert_eq!(b.compiled(), ["side:side", "top:top"], "{}", text(&b.out));
    assert!(
        stderr(&b).contains("left new: the checkout moved"),
        "{}",
        text(&b.out)
    );

    lab.case(&elsewhere, |ws| {
        append(&ws.join("middle/src/lib.rs"), "pub fn more() {}\n")
    });
    let b = lab.build_in(&elsewhere, &lab.cache, &[]);
    assert_eq!(
        b.compiled(),
        ["middle:middle", "side:side", "top:top"],
        "{}",
        text(&b.out)
    );
}
