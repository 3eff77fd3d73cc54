//! `why` on real cargo builds of a small workspace ([`why_lab`]), more
//! cases: deleted artifacts, output not from `cargo -v`, build-script
//! environment, the closest earlier build, both build-directory layouts.

mod common;
mod registry;
mod why_lab;

use std::fs;

use buildplan::why::{self, BuildDirs, Category, ContentCheck, Reason};
use common::touch;
use why_lab::{
    app_follows, assert_group, compiled_names, files_under, reason, reason_of, toolchain_or_skip,
    Fixture,
};

#[test]
fn deleted_artifacts() {
    let fx = Fixture::new();
    fx.build(&[], &[]);
    let rlib = files_under(&fx.target.join("debug"))
        .into_iter()
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("libutil-") && n.ends_with(".rlib")
        })
        .unwrap();
    fs::remove_file(&rlib).unwrap();
    let run = fx.build(&[], &[]);
    assert_eq!(compiled_names(&run), ["app", "util"]);
    assert_eq!(
        reason(&run, "util").reason,
        Reason::ArtifactMissing { path: rlib }
    );
    assert_group(&run, "app", Category::Dependency);

    // A deleted fingerprint: the unit's directory existed before the build.
    let fp = buildplan::layout::all_unit_dirs(&fx.target)
        .into_iter()
        .find(|u| u.package == "itoa")
        .unwrap()
        .fingerprint;
    fs::remove_file(fp.join("lib-itoa")).unwrap();
    let run = fx.build(&[], &[]);
    let itoa = reason(&run, "itoa");
    assert_eq!(
        itoa.reason,
        Reason::ArtifactMissing {
            path: fp.join("lib-itoa")
        }
    );
    assert!(why::gate(&run.report)
        .unwrap_err()
        .to_string()
        .contains("lib-itoa is missing"));
}

#[test]
fn output_not_from_cargo_v_is_an_error_and_never_fresh() {
    let fx = Fixture::new();
    fx.build(&[], &[]);
    fx.write("util/src/lib.rs", "pub fn value() -> u32 {\n    3\n}\n");
    let run = fx.build(&["--features", "util/extra"], &[("RUSTFLAGS", "--cfg x")]);
    let units = why::units(&run.stdout).unwrap();
    assert_eq!(units.iter().filter(|u| !u.fresh).count(), 4);
    let dirs = BuildDirs {
        workspace_root: Some(fx.ws.clone()),
        build_dir: Some(fx.target.clone()),
        ..BuildDirs::default()
    };

    // The real standard error and build directory explain every unit.
    let good = why::explain(&run.stderr, &units, &dirs).unwrap();
    assert!(
        good.compiled
            .iter()
            .all(|e| e.category != Category::Unknown),
        "{good}"
    );

    // Without `-v` there are no `Dirty` lines: an error, not "fresh"...
    let plain = "   Compiling util v0.1.0 (/w/util)\n    Finished `dev` profile\n";
    let err = why::explain(plain, &units, &dirs).unwrap_err().to_string();
    assert!(
        err.starts_with("cargo compiled 4 unit(s) but its standard error is not from `cargo -v`"),
        "{err}"
    );
    let fallback = why::explain_or_unknown("", &units, &dirs);
    assert_eq!(fallback.compiled.len(), 4);
    assert!(fallback
        .compiled
        .iter()
        .all(|e| e.category == Category::Unknown));
    assert!(fallback.log_error.as_deref().unwrap().contains("-v"));
    let gate = why::gate(&fallback).unwrap_err().to_string();
    assert!(gate.contains("unknown"), "{gate}");

    // ...and with neither a `Dirty` line nor a build directory to read,
    // a unit is unknown, saying why.
    let blind = why::explain(&run.stderr, &units, &BuildDirs::default()).unwrap();
    let unknown: Vec<&str> = blind
        .compiled
        .iter()
        .filter(|e| e.category == Category::Unknown)
        .map(|e| e.unit.name.as_str())
        .collect();
    assert_eq!(unknown.len(), 4, "{blind}");
    assert!(blind.to_string().contains("no `Dirty` line"), "{blind}");

    // Messages that are not cargo's: no list of units at all.
    let err = why::units(&run.stderr).unwrap_err().to_string();
    assert!(err.starts_with("no cargo JSON message"), "{err}");
}

#[test]
fn environment_read_by_a_build_script() {
    let fx = Fixture::new();
    fx.write(
        "util/build.rs",
        "fn main() {\n    println!(\"cargo:rerun-if-env-changed=WHY_TEST_ENV\");\n    \
         println!(\"cargo:rustc-env=WHY_VALUE={}\", std::env::var(\"WHY_TEST_ENV\").unwrap_or_default());\n}\n",
    );
    fx.write(
        "util/src/lib.rs",
        "pub fn value() -> u32 {\n    env!(\"WHY_VALUE\").len() as u32\n}\n",
    );
    let first = fx.build(&[], &[]);
    assert_eq!(
        reason_of(&first, "util", "build-script-build").reason,
        Reason::NeverBuilt
    );
    let run = fx.build(&[], &[("WHY_TEST_ENV", "set")]);
    assert_eq!(compiled_names(&run), ["app", "util"], "{}", run.report);
    let util = reason_of(&run, "util", "util");
    assert_eq!(
        util.reason,
        Reason::BuildScriptRan {
            because: Box::new(Reason::EnvChanged {
                name: "WHY_TEST_ENV".into()
            })
        }
    );
    assert_eq!(util.category, Category::Environment);
    app_follows(&run, "util");
}

#[test]
fn the_reason_is_the_one_change_from_the_closest_earlier_build() {
    let fx = Fixture::new();
    fx.build(&[], &[]);
    fx.build(&["--features", "util/extra"], &[]);
    // Back to the default features, but with new rustflags: relative to the
    // newest build util's features changed too, but the artifact of the
    // first build differs only by the rustflags, so that is the reason.
    let run = fx.build(&[], &[("RUSTFLAGS", "--cfg why_test")]);
    assert_eq!(
        reason(&run, "util").reason,
        Reason::RustflagsChanged {
            old: Some(vec![]),
            new: Some(vec!["--cfg".into(), "why_test".into()])
        },
        "{}",
        run.report
    );
}

/// Both layouts of the build directory, each on a toolchain that writes
/// it: cargo 1.95 (`.fingerprint/<package>-<hash>`, `deps/`) and cargo
/// 1.100 (`build/<package>/<hash>/{fingerprint,out}`). An edit is named by
/// cargo's `Dirty` line and told from a touch by the dep-info of the
/// layout; a feature change is found in the layout's fingerprints.
#[test]
fn both_build_dir_layouts() {
    for (toolchain, old_layout) in [("1.95.0", true), ("1.100.0", false)] {
        if !toolchain_or_skip(toolchain) {
            continue;
        }
        eprintln!("toolchain {toolchain} (the failing assertions below are its)");
        let mut fx = Fixture::new();
        fx.toolchain = Some(toolchain.into());
        fx.build(&[], &[]);
        assert_eq!(
            fx.target.join("debug/.fingerprint").is_dir(),
            old_layout,
            "{toolchain}"
        );
        let units = buildplan::layout::all_unit_dirs(&fx.target);
        let util = units.iter().find(|u| u.package == "util").unwrap();
        assert_eq!(util.fingerprint.ends_with("fingerprint"), !old_layout);

        fx.write("util/src/lib.rs", "pub fn value() -> u32 {\n    5\n}\n");
        let run = fx.build(&[], &[]);
        assert_eq!(compiled_names(&run), ["app", "util"], "{toolchain}");
        assert_eq!(
            reason(&run, "util").reason,
            Reason::SourceChanged {
                path: fx.ws.join("util/src/lib.rs"),
                content: ContentCheck::Differs
            },
            "{toolchain}"
        );
        touch(&fx.ws.join("util/src/lib.rs"));
        let run = fx.build(&[], &[]);
        assert_group(&run, "util", Category::Mtime);

        let run = fx.build(&["--features", "util/extra"], &[]);
        assert_group(&run, "util", Category::Features);
        app_follows(&run, "util");
    }
}
