# Development shells.
#
#   default  the stable toolchain (with the plan's targets' std), rust-analyzer,
#            mold, sccache, cargo-nextest, cargo-machete, the plan helper and
#            the workspace's test tools (buildWorkspace's checkInputs)
#   nightly  opt-in: fenix nightly with Cranelift; its `cargo` always reads
#            .cargo/nightly.toml (parallel front-end, share-generics,
#            Cranelift for the dev profile)
#
# The helper is the native build (the plan's host target): entering a shell
# needs no cross toolchain and no musl build. With no helper (a workspace
# whose plan comes from elsewhere) the shells go without.
{
  pkgs,
  toolchains,
  helper,
  extraPackages ? [ ],
}:
let
  helpers = if helper == null then [ ] else [ helper ];
in
{
  default = pkgs.mkShell {
    packages = [
      toolchains.stable
      pkgs.rust-analyzer
      pkgs.mold
      pkgs.sccache
      pkgs.cargo-nextest
      pkgs.cargo-machete
    ]
    ++ helpers
    ++ extraPackages;
    # sccache wraps every rustc call and answers repeats from its cache (local
    # disk unless SCCACHE_* point it at a shared bucket). It passes incremental
    # compilations through uncached, and the dev profile compiles every
    # workspace crate incrementally, so incremental is off in this shell: the
    # workspace crates become cacheable too, at the price of recompiling a
    # whole crate (not just its changed parts) after an edit.
    RUSTC_WRAPPER = "sccache";
    CARGO_INCREMENTAL = "0";
    RUST_SRC_PATH = "${toolchains.stable}/lib/rustlib/src/rust/library";
  };

  nightly =
    let
      # First on PATH, so plain `cargo` in this shell means nightly with the
      # repository's nightly settings; the file is found from where the shell
      # was entered (the repository root).
      cargoWithNightlyConfig = pkgs.writeShellScriptBin "cargo" ''
        exec ${toolchains.nightly}/bin/cargo \
          --config "''${NIGHTLY_CARGO_CONFIG:?enter this shell from the repository root}" "$@"
      '';
    in
    pkgs.mkShell {
      packages = [
        cargoWithNightlyConfig
        toolchains.nightly
        pkgs.mold
        pkgs.cargo-nextest
      ]
      ++ helpers;
      shellHook = ''
        export NIGHTLY_CARGO_CONFIG="$PWD/.cargo/nightly.toml"
        if [ ! -f "$NIGHTLY_CARGO_CONFIG" ]; then
          echo "devShells.nightly: $NIGHTLY_CARGO_CONFIG not found; enter the shell from the repository root" >&2
        fi
      '';
    };
}
