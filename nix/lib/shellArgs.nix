# Quotes a list of arguments for a bash command line, one single-quoted word
# each, so that plan arguments reach cargo exactly as the plan wrote them.
args:
builtins.concatStringsSep " " (
  map (arg: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] arg + "'") args
)
