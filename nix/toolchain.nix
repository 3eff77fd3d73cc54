# The Rust toolchains, from fenix.
#
#   stable   one toolchain for every build: cargo, rustc, clippy, rustfmt,
#            rust-src, plus the rust-std of every target triple in the plan
#            (x86_64 and aarch64 musl), joined with fenix's `combine`.
#   nightly  only for devShells.nightly: fenix's `latest` nightly with the
#            Cranelift backend that .cargo/nightly.toml asks for.
{ fenix, plan }:
let
  triples = builtins.filter (t: t != null) (
    map (t: t.triple or null) (builtins.attrValues plan.targets)
  );
in
{
  stable = fenix.combine (
    [
      fenix.stable.cargo
      fenix.stable.rustc
      fenix.stable.clippy
      fenix.stable.rustfmt
      fenix.stable.rust-src
    ]
    ++ map (triple: fenix.targets.${triple}.stable.rust-std) triples
  );

  nightly = fenix.latest.withComponents [
    "cargo"
    "clippy"
    "rust-src"
    "rustc"
    "rustfmt"
    "rustc-codegen-cranelift-preview"
  ];

  inherit triples;
}
