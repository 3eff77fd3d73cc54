{
  description = "Chronik Stream: a Kafka-compatible broker, built as static musl binaries with crane and fenix";

  # The project's binary cache. Its signing key is added here (as
  # extra-trusted-public-keys) once the cache exists: see nix/README.md.
  # CI does not depend on it: cachix-action configures the key itself.
  nixConfig = {
    extra-substituters = [ "https://chronik-stream.cachix.org" ];
  };

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    crane.url = "github:ipetkov/crane";
    fenix = {
      url = "github:nix-community/fenix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    {
      nixpkgs,
      crane,
      fenix,
      ...
    }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      perSystem = nixpkgs.lib.genAttrs systems (
        system:
        import ./nix {
          pkgs = nixpkgs.legacyPackages.${system};
          inherit crane;
          fenix = fenix.packages.${system};
          src = ./.;
          planFile = ./nix/plan.json;
        }
      );
      pick = output: nixpkgs.lib.mapAttrs (_: outputs: outputs.${output}) perSystem;
    in
    {
      packages = pick "packages";
      apps = pick "apps";
      checks = pick "checks";
      devShells = pick "devShells";
      formatter = pick "formatter";
    };
}
