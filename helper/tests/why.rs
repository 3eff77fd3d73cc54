//! `why` on real cargo builds of a small workspace ([`why_lab`]): one
//! change at a time, then the group of the reason cargo had for each
//! compiled unit: first builds, edits and touches, features, rustflags and
//! profiles, version bumps.

mod common;
mod registry;
mod why_lab;

use std::fs;

use buildplan::why::{self, Category, ContentCheck, Reason};
use common::touch;
use why_lab::{app_follows, assert_group, compiled_names, reason, Fixture};

#[test]
fn first_build_compiles_everything_as_never_built() {
    let fx = Fixture::new();
    let run = fx.build(&[], &[]);
    assert_eq!(compiled_names(&run), ["app", "cpufeatures", "itoa", "util"]);
    for e in &run.report.compiled {
        assert_eq!(e.reason, Reason::NeverBuilt, "{}", run.report);
        assert_eq!(e.category, Category::MissingArtifact);
    }
    let third: Vec<&str> = run
        .report
        .third_party()
        .map(|e| e.unit.name.as_str())
        .collect();
    assert_eq!(third.len(), 2);
    assert!(third.contains(&"itoa") && third.contains(&"cpufeatures"));
    // Nothing changed: nothing compiles, nothing to explain.
    let again = fx.build(&[], &[]);
    assert!(again.report.compiled.is_empty(), "{}", again.report);
    assert_eq!(again.report.fresh, 4);
    why::gate(&again.report).unwrap();
}

#[test]
fn edited_source_and_its_dependents() {
    let fx = Fixture::new();
    fx.build(&[], &[]);
    fx.write("util/src/lib.rs", "pub fn value() -> u32 {\n    2\n}\n");
    let run = fx.build(&[], &[]);
    assert_eq!(compiled_names(&run), ["app", "util"]);
    let util = reason(&run, "util");
    assert_eq!(
        util.reason,
        Reason::SourceChanged {
            path: fx.ws.join("util/src/lib.rs"),
            content: ContentCheck::Differs
        }
    );
    assert_eq!(util.category, Category::SourceFile);
    // cargo's own words name the file; the fingerprint log (its module
    // moved in cargo 1.99) is read as an extra under either name.
    let words = util.cargo.as_deref().unwrap_or_default();
    assert!(
        words.starts_with("the file `util/src/lib.rs` has changed"),
        "{words}"
    );
    assert!(
        util.log
            .as_deref()
            .unwrap_or_default()
            .contains("ChangedFile"),
        "{:?}",
        util.log
    );
    app_follows(&run, "util"); // a dependency, by name
                               // Only local units compiled: the gate passes.
    why::gate(&run.report).unwrap();
}

#[test]
fn touched_source_is_mtime_only() {
    let fx = Fixture::new();
    fx.build(&[], &[]);
    touch(&fx.ws.join("util/src/lib.rs"));
    let run = fx.build(&[], &[]);
    assert_eq!(compiled_names(&run), ["app", "util"]);
    let util = reason(&run, "util");
    assert_eq!(util.category, Category::Mtime, "{}", run.report);
    assert_eq!(
        util.reason,
        Reason::Touched {
            path: fx.ws.join("util/src/lib.rs")
        }
    );
    assert_group(&run, "app", Category::Dependency);
}

#[test]
fn a_touch_without_a_record_is_not_called_a_touch() {
    let fx = Fixture::new();
    fx.build(&[], &[]);
    fs::remove_file(fx.target.join(why::record::RECORD)).unwrap();
    touch(&fx.ws.join("util/src/lib.rs"));
    let run = fx.build(&[], &[]);
    assert_eq!(
        reason(&run, "util").reason,
        Reason::SourceChanged {
            path: fx.ws.join("util/src/lib.rs"),
            content: ContentCheck::NotCompared
        }
    );
}

#[test]
fn changed_features() {
    let fx = Fixture::new();
    fx.build(&[], &[]);
    // A feature of the dependency: util gets a new unit, app follows.
    let run = fx.build(&["--features", "util/extra"], &[]);
    assert_eq!(compiled_names(&run), ["app", "util"]);
    assert_eq!(
        reason(&run, "util").reason,
        Reason::FeaturesChanged {
            old: Some("[]".into()),
            new: Some("[\"extra\"]".into())
        }
    );
    app_follows(&run, "util");
    // A feature of the binary only.
    let run = fx.build(&["--features", "util/extra,app/fancy"], &[]);
    assert_eq!(compiled_names(&run), ["app"]);
    assert_group(&run, "app", Category::Features);
}

#[test]
fn changed_rustflags_then_profile() {
    let fx = Fixture::new();
    fx.build(&[], &[]);
    let run = fx.build(&[], &[("RUSTFLAGS", "--cfg why_test")]);
    assert_eq!(compiled_names(&run), ["app", "cpufeatures", "itoa", "util"]);
    for e in &run.report.compiled {
        assert_eq!(
            e.reason,
            Reason::RustflagsChanged {
                old: Some(vec![]),
                new: Some(vec!["--cfg".into(), "why_test".into()])
            },
            "{}",
            run.report
        );
    }
    // The gate names every third-party crate and its reason.
    let failure = why::gate(&run.report).unwrap_err();
    let text = failure.to_string();
    assert!(
        text.contains(&format!("itoa@{}: rustflags changed", fx.itoa)),
        "{text}"
    );
    assert!(text.contains("cpufeatures@"), "{text}");
    assert!(!text.contains("util@"), "{text}");
    assert_eq!(failure.compiled.len(), 2);

    let run = fx.build(
        &[],
        &[
            ("RUSTFLAGS", "--cfg why_test"),
            ("CARGO_PROFILE_DEV_OPT_LEVEL", "1"),
        ],
    );
    assert_eq!(compiled_names(&run), ["app", "cpufeatures", "itoa", "util"]);
    for e in &run.report.compiled {
        assert_eq!(e.reason, Reason::ProfileChanged, "{}", run.report);
        assert_eq!(e.category, Category::RustflagsOrProfile);
    }
}

#[test]
fn member_version_bump_compiles_no_third_party_crate() {
    let fx = Fixture::new();
    fx.build(&[], &[]);
    let manifest = fs::read_to_string(fx.ws.join("util/Cargo.toml")).unwrap();
    fx.write("util/Cargo.toml", &manifest.replace("0.1.0", "0.2.0"));
    let run = fx.build(&[], &[]);
    assert_eq!(compiled_names(&run), ["app", "util"]);
    assert_group(&run, "util", Category::NewVersion);
    app_follows(&run, "util");
    why::gate(&run.report).unwrap();
}

#[test]
fn registry_version_bump_fails_the_gate() {
    let fx = Fixture::new();
    fx.build(&[], &[]);
    let manifest = fs::read_to_string(fx.ws.join("app/Cargo.toml")).unwrap();
    let (old, new) = (&fx.cpufeatures[0], fx.cpufeatures.last().unwrap());
    fx.write(
        "app/Cargo.toml",
        &manifest.replace(
            &format!("cpufeatures = \"={old}\""),
            &format!("cpufeatures = \"={new}\""),
        ),
    );
    let run = fx.build(&[], &[]);
    assert_eq!(compiled_names(&run), ["app", "cpufeatures"]);
    let cpu = reason(&run, "cpufeatures");
    assert_eq!(cpu.unit.version, *new);
    assert_eq!(cpu.category, Category::NewVersion, "{}", run.report);
    app_follows(&run, "cpufeatures");
    let failure = why::gate(&run.report).unwrap_err();
    assert_eq!(failure.compiled.len(), 1);
    assert!(
        failure
            .to_string()
            .contains(&format!("cpufeatures@{new}: new version")),
        "{failure}"
    );
}
