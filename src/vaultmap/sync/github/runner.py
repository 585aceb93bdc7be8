"""One sync of a vault with GitHub, as ``vaultmap sync`` and the daemon run it.

Builds what a GitHub sync needs from the settings and the environment (the link table and
ETag cache in ``.vaultmap/github.sqlite``, a client for the API the environment names, the
layout of the vault's tasks) and hands it to the sync engine's :func:`run_sync`. The CLI and
the daemon only call :func:`sync_github` and :func:`github_in_use`.

Usage::

    settings = load_settings(vault)
    if github_in_use(settings):
        report = sync_github(settings)
        print(report.summary())
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from vaultmap.config import Settings
from vaultmap.sync.github.layout import LayoutTask
from vaultmap.sync.github.store import STORE_FILE, GitHubStore
from vaultmap.sync.runner import LOCK_TIMEOUT, Progress, SyncReport, VaultSnapshot, run_sync
from vaultmap.vault import scan_vault

if TYPE_CHECKING:
    from vaultmap.sync.github.http import GitHubClient

# The HTTP stack (httpx, tenacity) is imported by the functions that talk to GitHub: asking
# whether GitHub is in use (`vaultmap status --offline`, the daemon's start) must not load it.


def github_client(settings: Settings, store: GitHubStore | None, *,
                  environ: Mapping[str, str] | None = None,
                  on_wait: Callable[[str], None] | None = None) -> GitHubClient:
    """A client for the API the environment names (``VAULTMAP_GITHUB_API_URL``, else
    ``GH_HOST``, else github.com), with its token and the vault's persisted ETags (``store``;
    None: a client that outlives one store, given it by :func:`sync_github` while it syncs).
    ``on_wait`` hears each rate-limit wait (a line for the user)."""
    from vaultmap.sync.github.http import (
        GitHubClient,
        GitHubOptions,
        api_url_from,
        resolve_token,
        web_host_of,
    )

    environ = os.environ if environ is None else environ
    api_url = api_url_from(environ)
    options = GitHubOptions(write_interval=settings.github.write_interval,
                            backoff=settings.github.backoff,
                            backoff_max=max(settings.github.backoff * 30, 0.01))
    token = resolve_token(environ, host=web_host_of(api_url))
    return GitHubClient(token, api_url=api_url, options=options, etags=store, on_wait=on_wait)


def github_in_use(settings: Settings) -> bool:
    """Whether a plain ``vaultmap sync`` (and the daemon) includes GitHub: ``[github]
    enabled``, or a note published."""
    if settings.github.enabled:
        return True
    if not (settings.state_dir / STORE_FILE).exists():
        return False
    with GitHubStore.open(settings.state_dir, read_only=True) as store:
        return bool(store.links())


def link_hosts(api_url: str) -> tuple[str, ...]:
    """The hosts whose issue URLs in task text name issues of this API."""
    from vaultmap.sync.github.http import web_host_of

    host = web_host_of(api_url)
    hosts = {"github.com", host, host.partition(":")[0]}
    return tuple(sorted(hosts))


@dataclass(frozen=True, slots=True)
class KnownVault:
    """The vault's tasks as a caller keeps them in memory (the daemon): what a GitHub sync
    would otherwise read with a scan.

    ``tasks(published)`` gives, in scan order (notes in path order), every task of the
    published notes and at least every other task whose text may name an issue
    (:func:`~vaultmap.sync.github.refs.might_name_issue`): the others have no place on
    GitHub, so leaving them out changes no layout.
    """

    snapshot: VaultSnapshot
    tasks: Callable[[Collection[str]], Iterable[LayoutTask]]


def sync_github(settings: Settings, *, dry_run: bool = False, full: bool = False,
                force: bool = False, lock_timeout: float = LOCK_TIMEOUT,
                progress: Progress | None = None,
                on_wait: Callable[[str], None] | None = None,
                environ: Mapping[str, str] | None = None,
                client: GitHubClient | None = None,
                vault: KnownVault | None = None) -> SyncReport:
    """One sync of the vault with GitHub (published checklists and tasks naming issues).

    ``client``: one made by :func:`github_client` that outlives this sync (the daemon's);
    it reads and stores its ETags in the vault's store during the sync, and stays open.
    Without it, a client is made and closed here. ``vault``: the vault's tasks as the
    caller knows them (no note is read; the caller vouches they are current); without it,
    the vault is scanned. Either way every task GitHub covers is planned.

    The report's notes say which issues a sync closed, besides what the remote noticed.
    Raises what :func:`run_sync` raises: :class:`~vaultmap.errors.RemoteAuthError` for a
    missing or refused token, :class:`~vaultmap.errors.SyncBusyError` when another sync holds
    the vault past ``lock_timeout``, and the remote error family.
    """
    with GitHubStore.open(settings.state_dir, read_only=dry_run) as store:
        if client is None:
            with github_client(settings, store, environ=environ, on_wait=on_wait) as own:
                return _sync_github(settings, store, own, dry_run=dry_run, full=full,
                                    force=force, lock_timeout=lock_timeout, progress=progress,
                                    vault=vault)
        kept_etags, kept_wait = client.etags, client.on_wait
        client.etags = store
        if on_wait is not None:
            client.on_wait = on_wait
        try:
            return _sync_github(settings, store, client, dry_run=dry_run, full=full,
                                force=force, lock_timeout=lock_timeout, progress=progress,
                                vault=vault)
        finally:  # the store closes now: the client must not hold on to it
            client.etags, client.on_wait = kept_etags, kept_wait


def _sync_github(settings: Settings, store: GitHubStore, client: GitHubClient, *,
                 dry_run: bool, full: bool, force: bool, lock_timeout: float,
                 progress: Progress | None, vault: KnownVault | None) -> SyncReport:
    from vaultmap.sync.github.remote import GitHubRemote, layout_of

    links = store.links()
    hosts = link_hosts(client.api_url)
    if vault is None:
        # The layout from a scan; the plan reads the vault again once it holds the sync lock
        # (run_sync), so a note another sync changed meanwhile is planned as it is now.
        tasks = [task for note in scan_vault(settings).notes for task in note.tasks]
        layout = layout_of(tasks, links, settings.github, hosts=hosts)
        remote = GitHubRemote(client, links, layout, settings.github, settings.statuses)
        report = run_sync(settings, remote, dry_run=dry_run, full=full, force=force,
                          select=layout.covers, lock_timeout=lock_timeout, progress=progress)
    else:
        published = {link.note for link in links if link.number > 0}
        layout = layout_of(vault.tasks(published), links, settings.github, hosts=hosts)
        remote = GitHubRemote(client, links, layout, settings.github, settings.statuses)
        # Only the tasks GitHub covers are part of its sync (as run_sync's ``select`` would
        # keep them, in scan order, without a pass over every task of the vault).
        records = vault.snapshot.records
        covered = {key: records[key] for key in layout.placements if key in records}
        report = run_sync(settings, remote, dry_run=dry_run, full=full, force=force,
                          lock_timeout=lock_timeout, progress=progress,
                          vault=replace(vault.snapshot, records=covered, by_note=None))
    report.notes.extend(f"closed {issue}: every task of its checklist is done"
                        for issue in remote.closed if "#" in issue)
    return report
