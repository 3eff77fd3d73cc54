//! The pull-request scenarios on `tests/fixtures/members` (bottom <- middle
//! <- top; `side` reads `../shared.txt`, outside its directory): each `pr-*`
//! build from a fresh checkout at another path compiles exactly the edited
//! member, its dependents, and `side` (held back because the checkout moved:
//! cargo would compare the old checkout's shared.txt); `pr-share` rebuilds
//! what `pr-bottom` compiled in main's target directory; the goals are
//! evaluated. No speed is asserted.

mod common;

use common::{bin, copy_fixture, describe};

use buildplan_bench::report::{GoalStatus, Results};

#[test]
fn each_pull_request_build_compiles_the_edited_member_and_its_dependents() {
    let (tmp, ws) = copy_fixture("members", "ws");
    let json = tmp.path().join("results.json");
    let out = bin()
        .args([
            "bench",
            "--package",
            "top",
            "--configs",
            "tuned",
            "--runs",
            "1",
        ])
        .args([
            "--scenarios",
            "deps-cached,pr-noop,pr-top,pr-middle,pr-bottom,pr-share",
        ])
        .arg("--work-dir")
        .arg(tmp.path().join("work"))
        .arg("--json")
        .arg(&json)
        .arg("--manifest-path")
        .arg(ws.join("Cargo.toml"))
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    let results: Results = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let compiled = |scenario: &str| -> Vec<String> {
        let m = results
            .measurements
            .iter()
            .find(|m| m.scenario == scenario)
            .unwrap_or_else(|| panic!("no {scenario}: {}", describe(&out)));
        m.compiled.clone().expect("counted")
    };
    assert_eq!(compiled("pr-noop"), ["side:side", "top:top"]);
    assert_eq!(compiled("pr-top"), ["side:side", "top:top"]);
    assert_eq!(
        compiled("pr-middle"),
        ["middle:middle", "side:side", "top:top"]
    );
    let bottom = ["bottom:bottom", "middle:middle", "side:side", "top:top"];
    assert_eq!(compiled("pr-bottom"), bottom);
    // pr-share forgets those packages (middle's build script too) in main.
    assert_eq!(
        compiled("pr-share"),
        [
            "bottom:bottom",
            "middle:build-script-build",
            "middle:middle",
            "side:side",
            "top:top"
        ]
    );
    assert!(results
        .measurements
        .iter()
        .all(|m| m.scenario == "deps-cached" || m.scenario.starts_with("pr-")));
    let goal = |id: &str| {
        results
            .goals
            .iter()
            .find(|g| g.id == id)
            .unwrap_or_else(|| panic!("no goal {id}"))
    };
    // Two units compile without a change (side is held back at another
    // path), so the 0-unit goal misses here, and says so.
    assert_eq!(goal("pr-noop").status, GoalStatus::Miss);
    for id in ["pr-top", "pr-bottom"] {
        assert_ne!(goal(id).status, GoalStatus::NotMeasured, "{id}");
    }
}
