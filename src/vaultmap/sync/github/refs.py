"""Issue and pull-request references in task text, and what an issue's state means. Pure.

A task follows the first issue it names: ``owner/repo#12``, ``#12`` (with ``[github]
default_repo``), or a URL ``https://github.com/owner/repo/issues/12`` (``/pull/12`` too; the
host may be a GitHub Enterprise Server's). Closed as completed, or a merged pull request, is
done; closed as not planned (or duplicate), or a pull request closed unmerged, is cancelled;
open (and reopened) is todo.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_REPO = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}"
_URL = re.compile(rf"https?://(?P<host>[^\s/]+)/(?P<repo>{_REPO})/(?:issues|pull)/"
                  r"(?P<number>[0-9]{1,9})\b")
_QUALIFIED = re.compile(rf"(?<![\w/.-])(?P<repo>{_REPO})#(?P<number>[0-9]{{1,9}})\b")
_BARE = re.compile(r"(?<![\w/&#])#(?P<number>[0-9]{1,9})\b")
# What every form above needs (a number after "#", or an issue / pull request path).
_MIGHT_NAME = re.compile(r"#[0-9]|/(?:issues|pull)/")


@dataclass(frozen=True, slots=True, order=True)
class IssueRef:
    repo: str  # OWNER/REPO as written (GitHub names are case-insensitive)
    number: int

    def __str__(self) -> str:
        return f"{self.repo}#{self.number}"

    @property
    def path(self) -> str:
        return f"/repos/{self.repo}/issues/{self.number}"


def might_name_issue(text: str) -> bool:
    """False when ``text`` cannot name an issue in any form (no ``#`` before a digit, no
    issue or pull request URL): one quick search that spares most tasks the others (a
    ``#tag`` is not a reference)."""
    return _MIGHT_NAME.search(text) is not None


def find_ref(text: str, *, default_repo: str = "",
             hosts: tuple[str, ...] = ("github.com",)) -> IssueRef | None:
    """The first issue ``text`` names, or None."""
    if not might_name_issue(text):
        return None  # most tasks: a GitHub sync asks this of every task it is given
    found: list[tuple[int, IssueRef]] = []
    for match in _URL.finditer(text):
        if match.group("host").lower() in hosts:
            found.append((match.start(), IssueRef(match.group("repo"),
                                                  int(match.group("number")))))
            break
    without_urls = _URL.sub(lambda m: " " * len(m.group(0)), text)
    qualified = _QUALIFIED.search(without_urls)
    if qualified:
        found.append((qualified.start(), IssueRef(qualified.group("repo"),
                                                  int(qualified.group("number")))))
    if default_repo:
        bare = _BARE.search(_QUALIFIED.sub(lambda m: " " * len(m.group(0)), without_urls))
        if bare:
            found.append((bare.start(), IssueRef(default_repo, int(bare.group("number")))))
    return min(found)[1] if found else None


def status_type_of_issue(issue: Mapping[str, Any]) -> str:
    """todo | done | cancelled for an issue or pull request as the REST API returns it."""
    if issue.get("state") != "closed":
        return "todo"
    pull = issue.get("pull_request")
    if isinstance(pull, Mapping):
        return "done" if pull.get("merged_at") else "cancelled"
    if issue.get("state_reason") in ("not_planned", "duplicate"):
        return "cancelled"
    return "done"
