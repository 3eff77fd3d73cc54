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
      self,
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
      forEachSystem = nixpkgs.lib.genAttrs systems;

      # This repository: one call of the library below.
      chronik = forEachSystem (
        system:
        self.lib.${system}.buildWorkspace {
          src = ./.;
          planFile = ./nix/plan.json;
          # Dependencies in two layers: this lock's, and Cargo.lock's on top.
          baseLock = ./nix/base.lock;
          image = {
            user = "chronik";
            dataDir = "/var/lib/chronik";
            ports = [ 9092 ];
          };
          # The broker's client tests run kcat and the Python Kafka clients;
          # the backup tests need moto's S3 server, and must not skip.
          checkInputs = pkgs: [
            pkgs.kcat
            (pkgs.python3.withPackages (ps: [
              ps.kafka-python
              ps.confluent-kafka
              ps.moto
              ps.flask
              ps.flask-cors
            ]))
          ];
          checkEnv.CHRONIK_REQUIRE_S3_TESTS = "1";
          nextestArgs = [
            "--profile"
            "ci"
          ];
        }
      );
      pick = output: nixpkgs.lib.mapAttrs (_: outputs: outputs.${output}) chronik;
    in
    {
      # lib.<system>.buildWorkspace { src; planFile; ... }: packages, checks,
      # apps and devShells of any Cargo workspace with a build plan
      # (nix/default.nix documents the arguments, nix/README.md an example).
      lib = forEachSystem (system: {
        buildWorkspace =
          args:
          import ./nix (
            {
              pkgs = nixpkgs.legacyPackages.${system};
              inherit crane;
              fenix = fenix.packages.${system};
              # Other workspaces get this repository's plan helper.
              helper = chronik.${system}.internal.helper;
            }
            // args
          );
      });

      packages = pick "packages";
      apps = pick "apps";
      checks = pick "checks";
      devShells = pick "devShells";
      formatter = pick "formatter";
    };
}
