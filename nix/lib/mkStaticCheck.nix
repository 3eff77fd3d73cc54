# A check that a binary is statically linked (no ELF interpreter, no NEEDED
# libraries) and, when `run` is set (the host can execute it), that it starts
# and reports the expected version.
{
  runCommand,
  binutils-unwrapped,
  file,
}:
{
  name,
  package,
  binary,
  version,
  run ? true,
}:
runCommand name
  {
    nativeBuildInputs = [
      binutils-unwrapped
      file
    ];
  }
  (
    ''
      bin=${package}/bin/${binary}
      echo "checking $bin"
      file -L "$bin"
      if readelf --program-headers --wide "$bin" | grep -q 'INTERP'; then
        echo "FAIL: $bin has an ELF interpreter (dynamically linked)" >&2
        exit 1
      fi
      if readelf --dynamic --wide "$bin" | grep -q '(NEEDED)'; then
        echo "FAIL: $bin needs shared libraries:" >&2
        readelf --dynamic --wide "$bin" | grep '(NEEDED)' >&2
        exit 1
      fi
      file -L "$bin" | grep -Eq 'statically linked|static-pie linked'
    ''
    + (
      if run then
        ''
          out_version=$("$bin" --version)
          echo "$out_version"
          case "$out_version" in
            *${version}*) ;;
            *) echo "FAIL: --version printed '$out_version', expected ${version}" >&2; exit 1 ;;
          esac
        ''
      else
        ""
    )
    + ''
      touch $out
    ''
  )
