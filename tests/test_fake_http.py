"""The plumbing every fake server shares (``fake_http``), seen through both fakes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fake_github import FakeGitHub
from fake_notion import FakeNotion

GITHUB_HEADERS = {"User-Agent": "test", "X-GitHub-Api-Version": "2022-11-28"}


def test_a_person_acts_once_right_before_the_write_is_applied() -> None:
    with FakeGitHub() as fake:
        fake.add_repo("ada/plan")
        number = fake.add_issue("ada/plan", "Plan", "- [ ] one\n- [ ] two\n")
        seen: list[str | None] = []

        def person(path: str, body: Any) -> None:
            seen.append(fake.issue("ada/plan", number).body)  # not yet written
            fake.web_tick("ada/plan", number, "two")

        fake.before("PATCH /repos/{o}/{r}/issues/{n}", person)
        headers = {**GITHUB_HEADERS, "Authorization": f"Bearer {fake.token}"}
        for text in ("- [x] one\n- [ ] two\n", "- [x] one\n- [x] two\n"):
            answer = httpx.patch(f"{fake.api_url}/repos/ada/plan/issues/{number}",
                                 headers=headers, json={"body": text})
            assert answer.status_code == 200
        assert seen == ["- [ ] one\n- [ ] two\n"]  # once, before the first write only
        # The client's write came after the person's: last writer wins on GitHub.
        assert fake.issue("ada/plan", number).body == "- [x] one\n- [x] two\n"


def test_queued_faults_count_and_a_reseeded_storm_repeats() -> None:
    with FakeNotion(fault_kinds=("500", "503")) as fake:
        with pytest.raises(ValueError, match="unknown fault"):
            fake.inject("418")
        fake.inject("503", route="GET /v1/users/{id}", times=2)
        headers = {"Authorization": f"Bearer {fake.token}", "Notion-Version": "2025-09-03"}
        codes = [httpx.get(f"{fake.base_url}/v1/users/me", headers=headers).status_code
                 for _ in range(2)]
        assert codes == [503, 503] and fake.faults_served["503"] == 2
        assert fake.count("GET /v1/users/{id}") == 2

        def storm(seed: int) -> list[int]:
            fake.reseed(seed)
            fake.fault_rate = 0.5
            try:
                return [httpx.get(f"{fake.base_url}/v1/users/me", headers=headers).status_code
                        for _ in range(12)]
            finally:
                fake.clear_faults()

        first = storm(3)
        assert storm(3) == first and {500, 503} & set(first)
