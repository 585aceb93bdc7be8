"""``python -m vaultmap``: the same command as ``vaultmap``.

git runs the merge driver as ``<python> -m vaultmap merge-driver ...`` (the interpreter's
absolute path, so it works when ``vaultmap`` is not on PATH). That path skips click and the
command table: a merge of many notes starts one process per note.
"""

import sys

if len(sys.argv) > 1 and sys.argv[1] == "merge-driver":
    from vaultmap.sync.git.driver import main as merge_driver

    sys.exit(merge_driver(sys.argv[2:]))

from vaultmap.cli import main  # after the fast path, on purpose

main(prog_name="vaultmap")
