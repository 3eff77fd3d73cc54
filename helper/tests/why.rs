//! `why` on real cargo builds of a small workspace: one change at a time,
//! then the group of the reason cargo had for each compiled unit.
//!
//! The fixture (written at test time) has two members, `app` (a binary)
//! and `util` (a library), and two real crates.io packages, `itoa` and
//! `cpufeatures`, taken from the local registry cache into a private
//! `CARGO_HOME` so the builds run `--offline` and never touch the user's
//! cargo home. The versions are the ones the repository's own Cargo.lock
//! pins (its `cargo fetch` puts them in the cache).

mod registry;

use std::fs;
use std::path::PathBuf;
use std::time::SystemTime;

use registry::{locked_versions, private_cargo_home};

use buildplan::why::{self, BuildDirs, Category, ContentCheck, Reason, Run, RunOptions, WhyError};

struct Fixture {
    _tmp: tempfile::TempDir,
    ws: PathBuf,
    home: PathBuf,
    target: PathBuf,
    itoa: String,
    cpufeatures: Vec<String>,
    /// A rustup toolchain to build with (`cargo +<toolchain>`) instead of
    /// `$CARGO`.
    toolchain: Option<String>,
}

impl Fixture {
    fn new() -> Fixture {
        let itoa = locked_versions("itoa").pop().expect("itoa in Cargo.lock");
        let cpufeatures = locked_versions("cpufeatures");
        assert!(
            cpufeatures.len() >= 2,
            "two cpufeatures versions in Cargo.lock: {cpufeatures:?}"
        );
        let libc = locked_versions("libc").pop().expect("libc in Cargo.lock");
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        let home = tmp.path().join("cargo-home");
        let mut crates = vec![("itoa", itoa.as_str()), ("libc", libc.as_str())];
        crates.extend(cpufeatures.iter().map(|v| ("cpufeatures", v.as_str())));
        private_cargo_home(&home, &crates);
        let write = |rel: &str, text: &str| {
            let p = ws.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        };
        write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"app\", \"util\"]\nresolver = \"3\"\n",
        );
        write(
            "app/Cargo.toml",
            &format!(
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [dependencies]\nutil = {{ path = \"../util\" }}\nitoa = \"={itoa}\"\n\
                 cpufeatures = \"={}\"\n\n[features]\nfancy = []\n",
                cpufeatures[0]
            ),
        );
        write(
            "app/src/main.rs",
            "fn main() {\n    let mut b = itoa::Buffer::new();\n    \
             println!(\"{} {}\", b.format(util::value()), cfg!(feature = \"fancy\"));\n}\n",
        );
        write(
            "util/Cargo.toml",
            "[package]\nname = \"util\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[features]\nextra = []\n",
        );
        write("util/src/lib.rs", "pub fn value() -> u32 {\n    1\n}\n");
        let target = ws.join("target");
        Fixture {
            _tmp: tmp,
            ws,
            home,
            target,
            itoa,
            cpufeatures,
            toolchain: None,
        }
    }

    /// `cargo build --offline` through `why::run`, with `args` and `env`.
    fn build(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all: Vec<String> = self.toolchain.iter().map(|t| format!("+{t}")).collect();
        all.extend(["build".to_string(), "--offline".into()]);
        all.extend([
            "--target-dir".to_string(),
            self.target.display().to_string(),
        ]);
        all.extend(args.iter().map(|a| a.to_string()));
        let mut vars = vec![("CARGO_HOME".to_string(), self.home.display().to_string())];
        vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let run = why::run(&RunOptions {
            cargo: self.toolchain.as_ref().map(|_| "cargo".into()),
            dir: self.ws.clone(),
            args: all,
            env: vars,
            env_remove: [
                "RUSTFLAGS",
                "CARGO_ENCODED_RUSTFLAGS",
                "CARGO_BUILD_RUSTFLAGS",
                "CARGO_TARGET_DIR",
                "CARGO_BUILD_TARGET_DIR",
                "CARGO_INCREMENTAL",
                "RUSTC_WRAPPER",
                "CARGO_BUILD_RUSTC_WRAPPER",
                "CARGO_PROFILE_DEV_OPT_LEVEL",
            ]
            .map(String::from)
            .to_vec(),
            ..RunOptions::default()
        })
        .expect("why::run");
        assert!(run.success(), "cargo failed:\n{}", run.stderr);
        assert_eq!(run.report.log_error, None, "stderr:\n{}", run.stderr);
        assert_eq!(run.record_error, None);
        run
    }

    fn write(&self, rel: &str, text: &str) {
        fs::write(self.ws.join(rel), text).unwrap();
    }
}

/// The reason of the compiled unit of package `name`.
fn reason<'a>(run: &'a Run, name: &str) -> &'a why::Explained {
    let found: Vec<_> = run
        .report
        .compiled
        .iter()
        .filter(|e| e.unit.name == name)
        .collect();
    assert_eq!(found.len(), 1, "{name} compiled once in:\n{}", run.report);
    found[0]
}

/// The reason of the compiled unit of package `name`, target `target`.
fn reason_of<'a>(run: &'a Run, name: &str, target: &str) -> &'a why::Explained {
    run.report
        .compiled
        .iter()
        .find(|e| e.unit.name == name && e.unit.target == target)
        .unwrap_or_else(|| panic!("{name} {target} compiled in:\n{}", run.report))
}

/// Every file under `dir`.
fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files.extend(files_under(&p));
        } else {
            files.push(p);
        }
    }
    files
}

fn compiled_names(run: &Run) -> Vec<&str> {
    let mut names: Vec<&str> = run
        .report
        .compiled
        .iter()
        .map(|e| e.unit.name.as_str())
        .collect();
    names.sort();
    names
}

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
    let app = reason(&run, "app");
    assert_eq!(app.category, Category::Dependency);
    assert_eq!(
        app.reason,
        Reason::DependencyChanged {
            names: vec!["util".into()]
        }
    );
    // Only local units compiled: the gate passes.
    why::gate(&run.report).unwrap();
}

#[test]
fn touched_source_is_mtime_only() {
    let fx = Fixture::new();
    fx.build(&[], &[]);
    let file = fs::File::options()
        .write(true)
        .open(fx.ws.join("util/src/lib.rs"))
        .unwrap();
    file.set_modified(SystemTime::now()).unwrap();
    drop(file);
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
    assert_eq!(reason(&run, "app").category, Category::Dependency);
}

#[test]
fn a_touch_without_a_record_is_not_called_a_touch() {
    let fx = Fixture::new();
    fx.build(&[], &[]);
    fs::remove_file(fx.target.join(why::record::RECORD)).unwrap();
    let file = fs::File::options()
        .write(true)
        .open(fx.ws.join("util/src/lib.rs"))
        .unwrap();
    file.set_modified(SystemTime::now()).unwrap();
    drop(file);
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
    assert_eq!(
        reason(&run, "app").reason,
        Reason::DependencyChanged {
            names: vec!["util".into()]
        }
    );
    // A feature of the binary only.
    let run = fx.build(&["--features", "util/extra,app/fancy"], &[]);
    assert_eq!(compiled_names(&run), ["app"]);
    assert_eq!(reason(&run, "app").category, Category::Features);
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
    assert_eq!(
        reason(&run, "util").category,
        Category::NewVersion,
        "{}",
        run.report
    );
    assert_eq!(
        reason(&run, "app").reason,
        Reason::DependencyChanged {
            names: vec!["util".into()]
        }
    );
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
    assert_eq!(
        reason(&run, "app").reason,
        Reason::DependencyChanged {
            names: vec!["cpufeatures".into()]
        }
    );
    let failure = why::gate(&run.report).unwrap_err();
    assert_eq!(failure.compiled.len(), 1);
    assert!(
        failure
            .to_string()
            .contains(&format!("cpufeatures@{new}: new version")),
        "{failure}"
    );
}

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
    assert_eq!(reason(&run, "app").category, Category::Dependency);

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
    assert_eq!(
        why::explain(plain, &units, &dirs),
        Err(WhyError::NotVerbose { compiled: 4 })
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
    assert_eq!(why::units(&run.stderr), Err(WhyError::NoMessages));
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
    assert_eq!(
        reason(&run, "app").reason,
        Reason::DependencyChanged {
            names: vec!["util".into()]
        }
    );
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

/// Whether rustup has `toolchain`; a missing one skips a test with a
/// message, except under CI=true, where it fails.
fn toolchain_or_skip(toolchain: &str) -> bool {
    let ok = std::process::Command::new("cargo")
        .args([&format!("+{toolchain}"), "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let message = format!("toolchain {toolchain} is not installed (rustup toolchain install {toolchain} --profile minimal)");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("skipped: {message}");
    }
    ok
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
        let file = fs::File::options()
            .write(true)
            .open(fx.ws.join("util/src/lib.rs"))
            .unwrap();
        file.set_modified(SystemTime::now()).unwrap();
        drop(file);
        let run = fx.build(&[], &[]);
        assert_eq!(
            reason(&run, "util").category,
            Category::Mtime,
            "{toolchain}"
        );

        let run = fx.build(&["--features", "util/extra"], &[]);
        assert_eq!(
            reason(&run, "util").category,
            Category::Features,
            "{toolchain}: {}",
            run.report
        );
        assert_eq!(
            reason(&run, "app").reason,
            Reason::DependencyChanged {
                names: vec!["util".into()]
            },
            "{toolchain}"
        );
    }
}
