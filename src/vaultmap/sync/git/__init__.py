"""The git remote: commit, fetch, task-aware merge, push; and progress history from git.

Everything here runs git as short-lived subprocesses (no long-lived GitPython ``Repo``), so
a long-running caller such as the daemon grows no processes or file descriptors.
"""
