"""``vaultmap daemon --print-service``: a systemd user unit or a launchd agent for one vault."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from xml.sax.saxutils import escape

from vaultmap.display import printable


def _label(vault: Path) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in vault.name) or "vault"
    return f"vaultmap-{safe}"


_SYSTEMD_BARE = re.compile(r"[A-Za-z0-9_@+=:,./-]+")


def _systemd_word(arg: str) -> str:
    """One word of an ``ExecStart=`` line, as systemd reads it: ``%`` starts a specifier and
    ``$`` a variable (doubled to be literal), and inside double quotes a backslash escapes."""
    arg = arg.replace("%", "%%").replace("$", "$$")
    if _SYSTEMD_BARE.fullmatch(arg.replace("%%", "%")):
        return arg
    quoted = arg.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _UNPRINTABLE.sub(_byte_escape, quoted) + '"'


# A line break would end the ExecStart= line (and start another directive); a byte of a file
# name that is not valid UTF-8 (a lone surrogate) cannot be written at all: inside quotes,
# systemd reads \xNN as that byte.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\udc80-\udcff]")


def _byte_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00 if code >= 0xDC80 else code:02x}"


def systemd_unit(vault: Path, python: str = sys.executable) -> str:
    """A ``systemd --user`` unit running the daemon with this interpreter on ``vault``."""
    command = " ".join(_systemd_word(a) for a in (python, "-m", "vaultmap", "daemon", str(vault)))
    # Specifiers are expanded here too; a line break or control character is shown as U+FFFD
    # (it would end the line and start another directive).
    description = printable(str(vault)).replace("%", "%%")
    return f"""\
# ~/.config/systemd/user/{_label(vault)}.service
# Put the tokens in ~/.config/vaultmap/env (NOTION_TOKEN=...; chmod 600), then:
#   systemctl --user daemon-reload && systemctl --user enable --now {_label(vault)}
[Unit]
Description=vaultmap daemon for {description}
After=network-online.target

[Service]
Type=simple
ExecStart={command}
ExecReload=/bin/kill -HUP $MAINPID
EnvironmentFile=-%h/.config/vaultmap/env
Restart=on-failure
RestartSec=10
# exit code 20: another daemon runs for this vault; restarting would not help
RestartPreventExitStatus=20
TimeoutStopSec=10

[Install]
WantedBy=default.target
"""


def launchd_plist(vault: Path, python: str = sys.executable) -> str:
    """A launchd agent (``~/Library/LaunchAgents``) running the daemon on ``vault``."""
    label = f"org.vaultmap.{_label(vault)}"
    args = "\n".join(f"    <string>{escape(a)}</string>"
                     for a in (python, "-m", "vaultmap", "daemon", str(vault)))
    return f"""\
<?xml version="1.0" encoding="UTF-8"?>
<!-- ~/Library/LaunchAgents/{escape(label)}.plist; then:
     launchctl bootstrap gui/$(id -u) ~/Library/LaunchAgents/{escape(label)}.plist
     Set NOTION_TOKEN under EnvironmentVariables below (chmod 600 this file). -->
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>{escape(label)}</string>
  <key>ProgramArguments</key>
  <array>
{args}
  </array>
  <key>EnvironmentVariables</key>
  <dict>
    <key>NOTION_TOKEN</key>
    <string></string>
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <dict>
    <key>SuccessfulExit</key>
    <false/>
  </dict>
  <key>StandardErrorPath</key>
  <string>{escape(str(vault / '.vaultmap' / 'daemon.err'))}</string>
</dict>
</plist>
"""
