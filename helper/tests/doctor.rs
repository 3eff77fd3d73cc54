//! `cargo buildplan doctor` on real fixture workspaces: the findings with
//! their sources and kinds, the files untouched without `--write` and
//! fixed with it, and the proof (real cargo, real objcopy) that a fix
//! marked "no change to the binary" leaves the binary's code unchanged.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{run_expect, stderr, stdout};

const MANIFEST: &str = r#"[workspace]

[package]
name = "tiny"
version = "0.1.0"
edition = "2021"
publish = false

# The shipped release profile.
[profile.release]
debug = 2 # kept for backtraces
strip = true
lto = true
incremental = true

[profile.release.build-override]
opt-level = 3
"#;

const CONFIG: &str = "# machine-independent settings\n[profile.release]\ncodegen-units = 256\n";

const MAIN: &str = r#"include!(concat!(env!("OUT_DIR"), "/generated.rs"));

fn main() {
    let n: u64 = std::env::args().count() as u64;
    println!("{} {}", GENERATED, (0..n * 1000).map(|i| i * i).sum::<u64>());
}
"#;

const BUILD: &str = r#"fn main() {
    let out = std::env::var("OUT_DIR").unwrap();
    let sum: u64 = (0..1000u64).map(|i| i * 3).sum();
    std::fs::write(format!("{out}/generated.rs"), format!("const GENERATED: u64 = {sum};\n")).unwrap();
}
"#;

/// A one-crate workspace (with a build script) at `<tmp>/ws`; `config`
/// becomes its `.cargo/config.toml` when given.
fn workspace(manifest: &str, config: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.join("src/main.rs"), MAIN).unwrap();
    std::fs::write(dir.join("build.rs"), BUILD).unwrap();
    if let Some(config) = config {
        std::fs::create_dir_all(dir.join(".cargo")).unwrap();
        std::fs::write(dir.join(".cargo/config.toml"), config).unwrap();
    }
    (tmp, dir)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

fn few_cpus() -> bool {
    std::thread::available_parallelism().map_or(1, |n| n.get()) <= 16
}

/// The finding block for `key` in the doctor's output.
fn block<'a>(out: &'a str, key: &str) -> Option<&'a str> {
    let start = out.find(&format!("{key} = "))?;
    let rest = &out[start..];
    let end = rest[1..].find("\nrelease.").map_or(rest.len(), |e| e + 1);
    Some(&rest[..end])
}

#[test]
fn names_each_costly_setting_with_source_cost_and_kind_and_writes_nothing() {
    let (_tmp, dir) = workspace(MANIFEST, Some(CONFIG));
    let out = run_expect(&dir, &["doctor"], 0);
    let text = stdout(&out);
    let debug = block(&text, "release.debug").unwrap_or_else(|| panic!("{text}"));
    assert!(debug.contains("(from Cargo.toml)"), "{debug}");
    assert!(debug.contains("cost: "), "{debug}");
    assert!(
        debug.contains("fix: debug = 0 in [profile.release] of Cargo.toml: no runtime change"),
        "{debug}"
    );
    let bo = block(&text, "release.build-override.opt-level").unwrap();
    assert!(bo.contains("no runtime change"), "{bo}");
    let lto = block(&text, "release.lto").unwrap();
    assert!(
        lto.contains("trade-off") && lto.contains("fat LTO"),
        "{lto}"
    );
    let incremental = block(&text, "release.incremental").unwrap();
    assert!(incremental.contains("trade-off"), "{incremental}");
    let cgu = block(&text, "release.codegen-units");
    if few_cpus() {
        let cgu = cgu.unwrap_or_else(|| panic!("{text}"));
        assert!(cgu.contains("(from .cargo/config.toml)"), "{cgu}");
        assert!(cgu.contains("331 s") && cgu.contains("trade-off"), "{cgu}");
    } else {
        assert!(cgu.is_none(), "{text}");
    }
    let trade_offs = if few_cpus() { 3 } else { 2 };
    assert!(
        text.contains(&format!(
            "with no runtime change, {trade_offs} trade-off(s)"
        )),
        "{text}"
    );
    assert!(stderr(&out).contains("nothing written"));
    assert_eq!(read(&dir.join("Cargo.toml")), MANIFEST);
    assert_eq!(read(&dir.join(".cargo/config.toml")), CONFIG);
    // --check turns findings into exit 1, still writing nothing.
    run_expect(&dir, &["doctor", "--check"], 1);
    assert_eq!(read(&dir.join("Cargo.toml")), MANIFEST);
}

#[test]
fn write_fixes_the_file_the_setting_lives_in_keeping_its_layout() {
    let (_tmp, dir) = workspace(MANIFEST, Some(CONFIG));
    let out = run_expect(&dir, &["doctor", "--write"], 0);
    let err = stderr(&out);
    assert!(
        err.contains("wrote release.debug = 0 in Cargo.toml"),
        "{err}"
    );
    assert!(
        err.contains("not written: release.lto (Cargo.toml): a trade-off"),
        "{err}"
    );
    let manifest = read(&dir.join("Cargo.toml"));
    let expected = MANIFEST
        .replace(
            "debug = 2 # kept for backtraces",
            "debug = 0 # kept for backtraces",
        )
        .replace("opt-level = 3", "opt-level = 0");
    assert_eq!(manifest, expected, "only the two no-change keys changed");
    assert_eq!(read(&dir.join(".cargo/config.toml")), CONFIG);

    run_expect(&dir, &["doctor", "--write", "--trade-offs"], 0);
    let manifest = read(&dir.join("Cargo.toml"));
    assert!(manifest.contains("lto = \"thin\""), "{manifest}");
    assert!(manifest.contains("incremental = false"), "{manifest}");
    assert!(
        manifest.contains("# The shipped release profile."),
        "{manifest}"
    );
    if few_cpus() {
        assert_eq!(
            read(&dir.join(".cargo/config.toml")),
            CONFIG.replace("256", "16"),
            "written where the setting lives"
        );
    }
    let out = run_expect(&dir, &["doctor", "--check"], 0);
    assert!(stdout(&out).contains("0 finding(s)"), "{}", stdout(&out));
}

#[test]
fn settings_from_the_environment_are_reported_never_written() {
    let manifest = "[workspace]\n\n[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n";
    let (_tmp, dir) = workspace(manifest, None);
    let out = common::helper(&dir, &["doctor", "--write"])
        .env("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("release.debug = 1 (from env:CARGO_PROFILE_RELEASE_DEBUG)"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("set outside the workspace's files"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&dir.join("Cargo.toml")), manifest);
}

/// Builds the release binary into `target` (`-v`); returns the binary's
/// path and cargo's stderr.
fn build(dir: &Path, target: &Path) -> (PathBuf, String) {
    let out = Command::new("cargo")
        .args(["build", "--release", "-v"])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    (target.join("release/tiny"), err)
}

/// The binary's `.text` section (objcopy).
fn text(binary: &Path) -> Vec<u8> {
    let out = binary.with_extension("text");
    let status = Command::new("objcopy")
        .args(["-O", "binary", "--only-section=.text"])
        .arg(binary)
        .arg(&out)
        .status()
        .expect("objcopy runs (binutils)");
    assert!(status.success());
    std::fs::read(out).unwrap()
}

/// The binary's instructions (objdump), without addresses, immediates,
/// symbol names and alignment padding: what the code does, independent of
/// where the sections sit.
fn instructions(binary: &Path) -> Vec<String> {
    let out = Command::new("objdump")
        .args(["-d", "--no-show-raw-insn", "--no-addresses"])
        .arg(binary)
        .output()
        .expect("objdump runs (binutils)");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with('\t'))
        .map(|l| {
            let l = l.split('#').next().unwrap_or("");
            let l = match (l.find('<'), l.rfind('>')) {
                (Some(a), Some(b)) if a < b => format!("{}{}", &l[..a], &l[b + 1..]),
                _ => l.to_string(),
            };
            l.split(|c: char| !c.is_ascii_alphanumeric() && c != '%')
                .filter(|w| !w.is_empty())
                .filter(|w| {
                    !(w.starts_with("0x")
                        || (w.len() >= 3 && w.chars().all(|c| c.is_ascii_hexdigit())))
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|l| {
            l != "int3"
                && !l.starts_with("nop")
                && !l.starts_with("cs nop")
                && !l.starts_with("data16")
        })
        .collect()
}

#[test]
fn a_build_script_fix_leaves_the_same_file() {
    let manifest = "[workspace]\n\n[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[profile.release]\nstrip = true\n\n[profile.release.build-override]\nopt-level = 3\n";
    let (tmp, dir) = workspace(manifest, None);
    let (before, _) = build(&dir, &tmp.path().join("t1"));
    let out = run_expect(&dir, &["doctor", "--write"], 0);
    assert!(
        stdout(&out).contains("1 finding(s): 1 with no runtime change"),
        "{}",
        stdout(&out)
    );
    assert!(read(&dir.join("Cargo.toml")).contains("opt-level = 0"));
    let (after, _) = build(&dir, &tmp.path().join("t2"));
    assert!(
        std::fs::read(before).unwrap() == std::fs::read(after).unwrap(),
        "the binaries differ"
    );
}

// x86_64 Linux: the expected extra instruction is an x86 `movzbl`.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[test]
fn a_debug_fix_under_strip_leaves_the_code_but_rustcs_gdb_marker() {
    let manifest = "[workspace]\n\n[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[profile.release]\ndebug = 2\nstrip = true\n";
    let (tmp, dir) = workspace(manifest, None);
    let (before, log) = build(&dir, &tmp.path().join("t1"));
    assert!(
        log.contains("-C debuginfo=2"),
        "the shipped build has full debug info:\n{log}"
    );
    let out = run_expect(&dir, &["doctor", "--write"], 0);
    let found = stdout(&out);
    assert!(
        found.contains("1 finding(s): 1 with no runtime change, 0 trade-off(s)"),
        "{found}"
    );
    assert!(read(&dir.join("Cargo.toml")).contains("debug = 0"));
    let (after, log) = build(&dir, &tmp.path().join("t2"));
    assert!(!log.contains("-C debuginfo=2"), "{log}");
    // Same size of code; the instructions the same but one: the load of
    // .debug_gdb_scripts rustc adds to `main` while debug info is on.
    assert_eq!(text(&before).len(), text(&after).len());
    let (a, b) = (instructions(&before), instructions(&after));
    assert!(a.len() > 1000, "objdump read the code");
    let (a_ref, b_ref): (Vec<&str>, Vec<&str>) = (
        a.iter().map(String::as_str).collect(),
        b.iter().map(String::as_str).collect(),
    );
    let diff = similar::TextDiff::from_slices(&b_ref, &a_ref);
    let changes: Vec<String> = diff
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .map(|c| format!("{}{}", c.tag(), c.value()))
        .collect();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(
        changes[0].starts_with('+') && changes[0].contains("movzbl") && changes[0].contains("%rip"),
        "{changes:?}"
    );
    // A control: a trade-off (opt-level) changes the instructions.
    let cargo =
        read(&dir.join("Cargo.toml")).replace("strip = true", "strip = true\nopt-level = 1");
    std::fs::write(dir.join("Cargo.toml"), cargo).unwrap();
    let (changed, _) = build(&dir, &tmp.path().join("t3"));
    assert!(
        instructions(&changed) != b,
        "the comparison sees a changed binary"
    );
}

/// `[build] jobs` above the machine's CPUs (issue 19: `jobs = 8` on a
/// 2-core machine): named with its source and the memory it multiplies,
/// from `.cargo/config.toml` and from `CARGO_BUILD_JOBS`; a count within the
/// CPUs is no finding.
#[test]
fn more_jobs_than_cpus_is_named_with_its_memory_cost() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = cpus * 4;
    let manifest =
        "[workspace]\n\n[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";
    let config = format!("[build]\njobs = {jobs}\n");
    let (_tmp, dir) = workspace(manifest, Some(&config));
    let out = common::helper(&dir, &["doctor"])
        .env_remove("CARGO_BUILD_JOBS")
        .output()
        .unwrap();
    let text = stdout(&out);
    let found = block(&text, "build.jobs").unwrap_or_else(|| panic!("{text}"));
    assert!(
        found.starts_with(&format!("build.jobs = {jobs} (from .cargo/config.toml)")),
        "{found}"
    );
    assert!(
        found.contains(&format!("{jobs} rustc processes on {cpus} CPUs")),
        "{found}"
    );
    // The policy's default of 1536 MiB per job (memory.rs), times the jobs.
    let gib = |mib: usize| format!("{:.1} GiB", mib as f64 / 1024.0);
    assert!(
        found.contains("memory.rs: 1.5 GiB per ordinary job"),
        "{found}"
    );
    assert!(
        found.contains(&format!("up to {} with {jobs} jobs", gib(1536 * jobs))),
        "{found}"
    );
    assert!(
        found.contains(&format!("{} with {cpus}", gib(1536 * cpus))),
        "{found}"
    );
    assert!(found.contains("fix: by hand: no runtime change"), "{found}");

    let from_env = common::helper(&dir, &["doctor"])
        .env("CARGO_BUILD_JOBS", (jobs + 1).to_string())
        .output()
        .unwrap();
    let text = stdout(&from_env);
    let found = block(&text, "build.jobs").unwrap_or_else(|| panic!("{text}"));
    assert!(found.contains("(from env:CARGO_BUILD_JOBS)"), "{found}");

    let within = common::helper(&dir, &["doctor"])
        .env("CARGO_BUILD_JOBS", cpus.to_string())
        .output()
        .unwrap();
    assert!(
        block(&stdout(&within), "build.jobs").is_none(),
        "{}",
        stdout(&within)
    );
}
