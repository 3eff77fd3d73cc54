# The OCI image: the static broker, CA certificates and a non-root user
# (a fake /etc/passwd and /etc/group), and nothing else: no shell, no libc.
{
  dockerTools,
  runCommand,
  cacert,
}:
{
  server,
  binary,
  version,
}:
let
  uid = "10001";
  etc = runCommand "chronik-etc" { } ''
    mkdir -p $out/etc
    echo 'chronik:x:${uid}:${uid}:Chronik Stream:/var/lib/chronik:/nonexistent' > $out/etc/passwd
    echo 'chronik:x:${uid}:' > $out/etc/group
  '';
in
dockerTools.buildLayeredImage {
  name = "chronik-server";
  tag = version;
  contents = [
    server
    cacert
    etc
  ];
  # The data directory must exist and belong to the service user.
  fakeRootCommands = ''
    mkdir -p ./var/lib/chronik ./tmp
    chown ${uid}:${uid} ./var/lib/chronik
    chmod 1777 ./tmp
  '';
  config = {
    Entrypoint = [ "${server}/bin/${binary}" ];
    User = "${uid}:${uid}";
    WorkingDir = "/var/lib/chronik";
    Env = [ "SSL_CERT_FILE=${cacert}/etc/ssl/certs/ca-bundle.crt" ];
    ExposedPorts = {
      "9092/tcp" = { };
    };
    Volumes = {
      "/var/lib/chronik" = { };
    };
  };
}
