//! `buildplan::cargo_config` refuses bad input, naming the file (or
//! variable, or `--config` value) and the key.

mod common;

use buildplan::cargo_config;
use common::cargo_ws::*;

/// One bad input on the good `config-only` fixture: the file it edits
/// (relative to the workspace), the text replaced (empty: `to` is appended)
/// and its replacement, the variables and `--config` values added, and
/// what the error must say.
type Bad = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
    &'static [&'static str],
);

const CONFIG: &str = ".cargo/config.toml";

#[rustfmt::skip]
const BAD: &[Bad] = &[
    (CONFIG, "", "[profile.release\n", &[], &[], &[".cargo/config.toml: not valid TOML", "line"]),
    (CONFIG, "", "[profile.broken]\ninherits = \"nope\"\n", &[], &[],
        &[".cargo/config.toml: `profile.broken.inherits`", "`nope`"]),
    (CONFIG, "", "[profile.nothing]\nopt-level = 1\n", &[], &[], &["`profile.nothing.inherits`"]),
    (CONFIG, "", "[profile.dev]\ninherits = \"release\"\n", &[], &[], &["`profile.dev.inherits`"]),
    (CONFIG, "", "[profile.loop-a]\ninherits = \"loop-b\"\n[profile.loop-b]\ninherits = \"loop-a\"\n",
        &[], &[], &["cycle"]),
    (CONFIG, "strip = true", "strip = true\nfast = true", &[], &[],
        &[".cargo/config.toml: `profile.release.fast`"]),
    (CONFIG, "", "[profile.release.package.foo]\nlto = true\n", &[], &[],
        &["`profile.release.package.foo.lto`"]),
    (CONFIG, "", "[profile.release.build-override]\nspeed = 1\n", &[], &[],
        &["`profile.release.build-override.speed`"]),
    ("Cargo.toml", "", "[profile.dev]\nopt-levle = 1\n", &[], &[], &["Cargo.toml: `profile.dev.opt-levle`"]),
    ("", "", "", &[("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "many")], &[],
        &["env:CARGO_PROFILE_RELEASE_CODEGEN_UNITS: `profile.release.codegen-units`"]),
    ("", "", "", &[], &["profile.release.lto = "], &["--config profile.release.lto = : not valid TOML"]),
];

#[test]
fn bad_input_names_the_file_and_the_key() {
    let ws = setup("config-only");
    for &(file, from, to, vars, cli, says) in BAD {
        let path = ws.root.join(file);
        let good = (!file.is_empty()).then(|| text(&path));
        if let Some(good) = &good {
            let bad = match from {
                "" => format!("{good}\n{to}"),
                _ => good.replacen(from, to, 1),
            };
            assert_ne!(&bad, good);
            std::fs::write(&path, bad).unwrap();
        }
        let err = cargo_config::load(&inputs(&ws, &env(&ws, vars), cli));
        let err = err.expect_err("bad input is refused").to_string();
        for part in says {
            assert!(err.contains(part), "{file} {to:?} {vars:?} {cli:?}: {err}");
        }
        if let Some(good) = good {
            std::fs::write(&path, good).unwrap();
        }
    }
    // The good configuration still loads.
    resolve(&ws, &env(&ws, &[]), &[]);
}
