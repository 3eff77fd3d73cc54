//! `explain` and `audit` on the basic fixture.

mod common;

use common::*;

#[test]
fn explain_shows_variants_targets_and_profiles() {
    let (_tmp, dir) = copy_fixture("basic", "ws");
    let lock = read(&dir.join("Cargo.lock"));
    let text = stdout(&run_expect(&dir, &["explain", "app"], 0));
    assert_eq!(
        read(&dir.join("Cargo.lock")),
        lock,
        "explain never touches the lockfile"
    );
    for needle in [
        "package app 0.2.0 (crates/app)",
        "binaries:          app, app-admin",
        "tests with:        crates/corelib, crates/macros, crates/testkit",
        "minimal: The app alone, nothing optional",
        "cargo build --package app --no-default-features",
        "built as a root: default features + app/fmt, app/search",
        "x86_64-unknown-linux-musl: linker clang, -fuse-ld=mold, target-cpu x86-64-v2",
        "CC_aarch64_unknown_linux_musl=clang",
        "rustflags: -C link-arg=--target=aarch64-unknown-linux-musl -C link-arg=-fuse-ld=lld",
        "release [default]:",
        "codegen-units = 1  (override for app, policy)",
        "release-fast (inherits release):",
        "lto = false  (Cargo.toml)\n",
        "opt-level = 0  (cargo default)",
        "build scripts and proc-macros: opt-level = 0 (Cargo.toml)",
        // app is a root of the default variant: each profile's estimate.
        "memory: light, final step about 1.0 GiB",
        "thin LTO over ",
    ] {
        assert!(text.contains(needle), "explain lacks {needle:?}:\n{text}");
    }
    let lib = stdout(&run_expect(&dir, &["explain", "corelib"], 0));
    assert!(
        lib.contains("built as a dependency of app, tool"),
        "corelib in `full`:\n{lib}"
    );
}

#[test]
fn audit_reports_the_split_and_fails_unless_unified() {
    let (_tmp, dir) = copy_fixture("basic", "ws");
    // Unified (the default for several roots): reported, resolved, exit 0.
    let out = run_expect(&dir, &["audit"], 0);
    let text = stdout(&out);
    assert!(
        text.contains("variant `split`: 1 third-party package(s)"),
        "{text}"
    );
    assert!(text.contains("resolved: the plan builds"), "{text}");
    // Turned off for the variant: NOT resolved, exit 1.
    let manifest = dir.join("Cargo.toml");
    let original = std::fs::read_to_string(&manifest).unwrap();
    let marker = "description = \"Two roots that disagree about memchr's features\"";
    assert!(original.contains(marker));
    std::fs::write(
        &manifest,
        original.replace(marker, &format!("{marker}\nunify = false")),
    )
    .unwrap();
    let out = run_expect(&dir, &["audit"], 1);
    let text = stdout(&out);
    assert!(
        text.contains("variant `split`: 1 third-party package(s)"),
        "{text}"
    );
    assert!(text.contains("memchr 2.8.3"), "{text}");
    assert!(text.contains("[] when building: app"), "{text}");
    assert!(
        text.contains("[alloc, std] when building: <together>, tool"),
        "{text}"
    );
    assert!(text.contains("variant `default`: no third-party"), "{text}");
    assert!(
        text.contains("NOT resolved: not unified: `variants.split.unify = false`"),
        "{text}"
    );

    let out = run_expect(&dir, &["audit", "--variant", "full"], 0);
    assert!(stdout(&out).contains("variant `full`: no third-party"));
}
