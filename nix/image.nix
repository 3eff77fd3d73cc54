# The OCI image of a workspace's main package: its static binary, CA
# certificates and a non-root user (a fake /etc/passwd and /etc/group), and
# nothing else: no shell, no libc. The user, data directory and ports come
# from the `image` argument of buildWorkspace.
{
  dockerTools,
  runCommand,
  cacert,
}:
{
  name,
  package,
  binary,
  version,
  user,
  dataDir,
  ports ? [ ],
  uid ? "10001",
}:
let
  etc = runCommand "${name}-etc" { } ''
    mkdir -p $out/etc
    echo '${user}:x:${uid}:${uid}:${name}:${dataDir}:/nonexistent' > $out/etc/passwd
    echo '${user}:x:${uid}:' > $out/etc/group
  '';
in
dockerTools.buildLayeredImage {
  inherit name;
  tag = version;
  contents = [
    package
    cacert
    etc
  ];
  # The data directory must exist and belong to the service user.
  fakeRootCommands = ''
    mkdir -p .${dataDir} ./tmp
    chown ${uid}:${uid} .${dataDir}
    chmod 1777 ./tmp
  '';
  config = {
    Entrypoint = [ "${package}/bin/${binary}" ];
    User = "${uid}:${uid}";
    WorkingDir = dataDir;
    Env = [ "SSL_CERT_FILE=${cacert}/etc/ssl/certs/ca-bundle.crt" ];
    ExposedPorts = builtins.listToAttrs (
      map (port: {
        name = "${toString port}/tcp";
        value = { };
      }) ports
    );
    Volumes = {
      ${dataDir} = { };
    };
  };
}
