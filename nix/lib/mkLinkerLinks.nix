# A directory for PATH with the linker `-fuse-ld=<fuseLd>` asks for, under
# both names a compiler driver may look for: `ld.<fuseLd>` and
# `<targetPrefix>ld.<fuseLd>`. A cross GCC needs the prefixed one: its collect2
# looks only for that name and otherwise fails with "cannot find 'ld'" (GCC
# bug 111605; mold issue 1114). mold and lld both pick their ELF mode from a
# name ending in `ld.mold` / `ld.lld`. tests/nix builds this for Debian's cross
# GCC and links with it.
{ runCommand }:
{
  targetPrefix,
  fuseLd,
  tool,
}:
let
  binary =
    if fuseLd == "mold" then
      "mold"
    else if fuseLd == "lld" then
      "ld.lld"
    else
      throw "mkLinkerLinks: no linker binary known for -fuse-ld=${fuseLd}";
in
runCommand "${targetPrefix}ld.${fuseLd}-links" { } ''
  mkdir -p $out/bin
  ln -s ${tool}/bin/${binary} $out/bin/ld.${fuseLd}
  ${if targetPrefix == "" then "" else "ln -s ${tool}/bin/${binary} $out/bin/${targetPrefix}ld.${fuseLd}"}
''
