"""What the client scripts of this directory share: failing with a message
that names the script, and exit status 3 (reported by the Rust tests as a
missing Python module) when a client module cannot be imported."""

import contextlib
import os
import sys

SCRIPT = os.path.basename(sys.argv[0])


def fail(message):
    print(f"{SCRIPT}: {message}", file=sys.stderr)
    sys.exit(1)


@contextlib.contextmanager
def needs(package):
    """Imports in the block that fail exit 3, naming the pip `package`."""
    try:
        yield
    except ImportError as e:  # pragma: no cover - environment problem
        print(
            f"{SCRIPT}: the Python module {package} is missing ({e}); "
            f"install it with `python3 -m pip install {package}`",
            file=sys.stderr,
        )
        sys.exit(3)
