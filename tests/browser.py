"""A real headless Chromium for the HTML report's tests, driven through chromedriver (selenium).

Only the system's browser is used (Debian's ``chromium`` and ``chromium-driver``); nothing is
downloaded: the driver's path is given to selenium, which then skips its own driver manager.
Every page load records the browser's console and every network request it starts, from the
DevTools protocol's ``Network.requestWillBeSent`` events (the performance log).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

INSTALL_HINT = ("browser tests skipped: no headless Chromium. Install it with "
                "'sudo apt-get install chromium chromium-driver' (Debian/Ubuntu; CI does this "
                "in .ci/run) and selenium with \"pip install -e '.[test]'\"")


def browser_paths() -> tuple[str, str] | None:
    """(chromium, chromedriver) from PATH, or None when either is missing."""
    browser = next((found for name in ("chromium", "chromium-browser", "google-chrome")
                    if (found := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        return None
    try:
        import selenium  # noqa: F401
    except ImportError:
        return None
    return browser, driver


@dataclass
class Load:
    """What one page load did: requests started (other than the page itself) and console
    messages at error level."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Browser:
    """One headless Chromium; :meth:`load` opens a file and reports what the load did."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def _drain(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return self.driver.get_log("performance"), self.driver.get_log("browser")

    def load(self, page: Path, *, width: int = 1280, height: int = 900,
             dark: bool = False) -> Load:
        """Open ``page`` at this viewport and colour scheme; wait until it has loaded."""
        self.driver.get("about:blank")
        self._drain()
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
            "features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
        url = page.absolute().as_uri()
        self.driver.get(url)  # returns once the load event has fired
        performance, console = self._drain()
        load = Load()
        for entry in performance:
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                requested = message["params"]["request"]["url"]
                if requested != url:
                    load.requests.append(requested)
        load.errors = [entry["message"] for entry in console if entry["level"] == "SEVERE"]
        return load

    def js(self, script: str, *args: Any) -> Any:
        """Run ``script`` in the page (the test's own script: pages under test carry none)."""
        return self.driver.execute_script(script, *args)


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed on exit. Call only when :func:`browser_paths` found one."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = browser_paths()
    assert paths is not None
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--disable-default-apps", "--hide-scrollbars",
                     "--force-device-scale-factor=1", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=paths[1]))
    try:
        yield Browser(driver)
    finally:
        driver.quit()
