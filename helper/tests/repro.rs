//! Bit-identical binaries: one fixture built from two checkouts at
//! different paths, with different cargo homes and file times, with the
//! workspace's release profile (thin LTO, strip).
//!
//! The fixture puts absolute paths into the binary in every way found:
//! a build script writes Rust source into `OUT_DIR` that `main.rs`
//! `include!`s and that panics with `file!()`; a crates.io crate
//! (`once_cell`, from the local registry cache, offline) panics with its
//! own source location; the binary's own `file!()`. Its
//! `.cargo/config.toml` sets `build.rustflags` that must survive.
//!
//! The control builds the same two copies without the settings and
//! shows their binaries differ, so the comparison can fail.

mod common;
mod registry;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use buildplan::cargo_config::{self, AddRustflags, RustflagsSource};
use buildplan::repro::{self, ReproInputs, ReproSettings};

/// What a build adds: `--config` arguments and environment variables.
#[derive(Debug, Default, PartialEq)]
struct Rendered {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

const RELEASE: &str = "\n[profile.release]\nopt-level = 2\nlto = \"thin\"\ncodegen-units = 16\n\
                       strip = true\npanic = \"unwind\"\nincremental = false\n";

struct Copy {
    ws: PathBuf,
    home: PathBuf,
}

fn write(ws: &Path, rel: &str, text: &str) {
    let p = ws.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn checkout(ws: &Path, home: &Path, once_cell: &str, mtime: SystemTime) -> Copy {
    registry::private_cargo_home(home, &[("once_cell", once_cell)]);
    write(
        ws,
        "Cargo.toml",
        &format!(
            "[package]\nname = \"reprobin\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nonce_cell = \"={once_cell}\"\n\n\
             [lints.rust]\nunexpected_cfgs = \"allow\"\n{RELEASE}"
        ),
    );
    write(
        ws,
        "build.rs",
        "use std::{env, fs, path::Path};\nfn main() {\n    let out = env::var(\"OUT_DIR\").unwrap();\n    \
         fs::write(Path::new(&out).join(\"gen.rs\"), \"pub fn generated(n: usize) -> usize {\\n    \
         if n > 100 { panic!(\\\"too many: {} in {}\\\", n, file!()) }\\n    n * 2\\n}\\n\").unwrap();\n    \
         println!(\"cargo:rerun-if-changed=build.rs\");\n}\n",
    );
    write(
        ws,
        "src/main.rs",
        "include!(concat!(env!(\"OUT_DIR\"), \"/gen.rs\"));\n\
         static CELL: once_cell::sync::OnceCell<usize> = once_cell::sync::OnceCell::new();\n\
         fn main() {\n    let n = std::env::args().count();\n    let v = *CELL.get_or_init(|| generated(n));\n    \
         let items = vec![1u8, 2, 3];\n    \
         println!(\"{} user_flag={} {} {}\", v, cfg!(user_flag), file!(), items[v % 3]);\n}\n",
    );
    write(
        ws,
        ".cargo/config.toml",
        "[build]\nrustflags = [\"--cfg\", \"user_flag\"]\n",
    );
    for rel in [
        "Cargo.toml",
        "build.rs",
        "src/main.rs",
        ".cargo/config.toml",
    ] {
        let f = fs::File::options().write(true).open(ws.join(rel)).unwrap();
        f.set_modified(mtime).unwrap();
    }
    Copy {
        ws: ws.to_path_buf(),
        home: home.to_path_buf(),
    }
}

/// Two checkouts of the fixture in a new temporary directory, at
/// (workspace, cargo home) `paths`, the first `older` seconds older.
fn two_checkouts(paths: [(&str, &str); 2], older: u64) -> (tempfile::TempDir, [Copy; 2]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let once_cell = registry::locked_versions("once_cell")
        .pop()
        .expect("once_cell in Cargo.lock");
    let now = SystemTime::now();
    let times = [now - Duration::from_secs(older), now];
    let copies = [0, 1].map(|i| {
        let (ws, home) = paths[i];
        checkout(&dir.join(ws), &dir.join(home), &once_cell, times[i])
    });
    (tmp, copies)
}

/// `cargo build --release --offline` of a copy with `extra`; returns the binary.
fn build(copy: &Copy, extra: &Rendered) -> Vec<u8> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--offline"])
        .args(&extra.args)
        .current_dir(&copy.ws)
        .env("CARGO_HOME", &copy.home)
        .envs(extra.env.iter().map(|(k, v)| (k, v)));
    for k in common::CARGO_NOISE {
        if !extra.env.iter().any(|(n, _)| n == k) {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::read(copy.ws.join("target/release/reprobin")).unwrap()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Asserts the two copies' binaries are identical and name neither copy's
/// workspace or cargo home.
fn assert_identical_without_paths(bins: [&[u8]; 2], copies: [&Copy; 2]) {
    let [bin_a, bin_b] = bins;
    assert!(
        bin_a == bin_b,
        "binaries differ ({} and {} bytes)",
        bin_a.len(),
        bin_b.len()
    );
    for path in copies.iter().flat_map(|c| [&c.ws, &c.home]) {
        let path = path.display().to_string();
        assert!(!contains(bin_a, &path), "{path} in the binary");
    }
}

/// Runs a copy's built binary with `args`; its output.
fn run_binary(copy: &Copy, args: &[&str]) -> std::process::Output {
    let bin = copy.ws.join("target/release/reprobin");
    Command::new(bin).args(args).output().unwrap()
}

/// The reproducible-build settings of a checkout, added to its own
/// rustflags the way `build` adds them.
fn settings_for(copy: &Copy) -> Rendered {
    let inputs = ReproInputs {
        workspace_root: copy.ws.clone(),
        cargo_home: copy.home.clone(),
        target_dir: copy.ws.join("target"),
        build_dir: None,
        sysroot: Some(repro::sysroot().unwrap()),
        source_date_epoch: repro::source_date_epoch(&copy.ws),
    };
    let settings = ReproSettings::new(&inputs);
    // The environment the builds see: none of the rustflags variables.
    let cfg = cargo_config::load(&cargo_config::Inputs {
        workspace_root: copy.ws.clone(),
        cargo_home: Some(copy.home.clone()),
        ..Default::default()
    })
    .unwrap();
    let host = buildplan::exec::HostInfo::detect().unwrap().triple;
    let cfgs = cargo_config::rustc_cfg(None).unwrap();
    let flags = cfg.rustflags(&host, &cfgs).unwrap();
    assert_eq!(
        flags.winner,
        RustflagsSource::Build,
        "the fixture's flags are build.rustflags"
    );
    let mut out = Rendered {
        args: Vec::new(),
        env: vec![(
            "SOURCE_DATE_EPOCH".into(),
            settings.source_date_epoch.to_string(),
        )],
    };
    match flags.add(&settings.rustflags().unwrap()).unwrap() {
        AddRustflags::Config { arg } => out.args.extend(["--config".into(), arg]),
        AddRustflags::Env { name, value } => out.env.push((name, value)),
        AddRustflags::Nothing => panic!("there are flags to add"),
    }
    out
}

#[test]
fn two_checkouts_give_identical_binaries() {
    let (_tmp, [a, b]) = two_checkouts(
        [("a/ws", "a/cargo-home"), ("b/somewhere/else/ws", "b/home2")],
        7200,
    );

    // Control: plain builds differ, by their paths.
    let (plain_a, plain_b) = (
        build(&a, &Rendered::default()),
        build(&b, &Rendered::default()),
    );
    assert_ne!(
        plain_a, plain_b,
        "without remapping the binaries must differ"
    );
    assert!(contains(&plain_a, &a.home.display().to_string()));
    assert!(contains(
        &plain_b,
        &b.ws.join("target").display().to_string()
    ));

    // With the settings: byte-identical.
    let (ra, rb) = (settings_for(&a), settings_for(&b));
    assert_ne!(ra, rb, "the settings name each checkout's own paths");
    let bin_a = build(&a, &ra);
    std::thread::sleep(Duration::from_secs(1));
    let bin_b = build(&b, &rb);
    assert_identical_without_paths([&bin_a, &bin_b], [&a, &b]);
    assert!(contains(&bin_a, "/cargo-home/registry/src/"));
    // The build script's OUT_DIR: build/reprobin-<hash>/out, or
    // build/reprobin/<hash>/out in cargo 1.100's build-dir layout.
    assert!(
        contains(&bin_a, "/target/release/build/reprobin-")
            || contains(&bin_a, "/target/release/build/reprobin/")
    );

    // The user's build.rustflags still apply, and panics name the
    // remapped OUT_DIR file.
    let out = run_binary(&a, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("user_flag=true"), "{stdout}");
    let out = run_binary(&b, &["x"; 120]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("too many: 121 in /target/release/build/reprobin-")
            || stderr.contains("too many: 121 in /target/release/build/reprobin/"),
        "{stderr}"
    );
}

/// `cargo buildplan build reprobin` (release: reproducible by default) in
/// a copy; returns the binary and the helper's stderr.
fn helper_build(copy: &Copy) -> (Vec<u8>, String) {
    let run = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-buildplan"));
        cmd.args(args)
            .current_dir(&copy.ws)
            .env("CARGO_HOME", &copy.home)
            .env("CARGO_NET_OFFLINE", "true");
        for k in common::CARGO_NOISE.into_iter().chain(["SOURCE_DATE_EPOCH"]) {
            cmd.env_remove(k);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {stderr}");
        stderr
    };
    run(&["plan", "--no-audit"]);
    let stderr = run(&["build", "reprobin", "--profile", "release"]);
    (
        fs::read(copy.ws.join("target/release/reprobin")).unwrap(),
        stderr,
    )
}

/// The same through the helper: its target flags (the linker) and the
/// repro flags go into one addition to the fixture's `build.rustflags`.
#[test]
fn helper_builds_from_two_checkouts_are_identical() {
    let (_tmp, [a, b]) = two_checkouts(
        [("one/ws", "one/cargo-home"), ("two/deeper/ws", "two/home")],
        3600,
    );
    let (bin_a, stderr) = helper_build(&a);
    assert!(stderr.contains("reproducible: yes"), "{stderr}");
    assert!(stderr.contains("build.rustflags=["), "{stderr}");
    let (bin_b, _) = helper_build(&b);
    assert_identical_without_paths([&bin_a, &bin_b], [&a, &b]);
    // The workspace's own build.rustflags still apply.
    let out = run_binary(&a, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("user_flag=true"), "{stdout}");
}
