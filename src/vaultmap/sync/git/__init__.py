"""The git remote: shared plumbing (:mod:`.repo`), the task-aware merge of one note
(:mod:`.merge`), the merge driver git calls (:mod:`.driver`) and its installation
(:mod:`.install`); the round trip of ``vaultmap sync --git`` (:mod:`.roundtrip`, running git
through :mod:`.process`), its commit messages (:mod:`.message`) and progress history from git
(:mod:`.history`).

Everything here runs git as short-lived subprocesses (no long-lived GitPython ``Repo``), so
a long-running caller such as the daemon grows no processes or file descriptors.
"""
