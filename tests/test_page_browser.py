"""The status page in a real browser: `sheetsync serve` on an ephemeral port, headless Chromium through Selenium.

Skipped, with the reason shown, where Chromium, chromedriver or selenium is missing (`.ci/run` installs
them). Screenshots go to tmp/artifacts (or SHEETSYNC_ARTIFACTS).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from sheetsync.cli import main
from sheetsync.config import load
from sheetsync.core.summary import FUNNEL_FIRST_ROW
from sheetsync.state import State

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
    HAVE_SELENIUM = True
except ImportError:  # pragma: no cover - depends on the machine
    HAVE_SELENIUM = False

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER and HAVE_SELENIUM),
    reason="browser test needs Chromium, chromedriver and selenium: apt-get install -y chromium chromium-driver; "
           "pip install -e '.[test]'")

ARTIFACTS = Path(os.environ.get("SHEETSYNC_ARTIFACTS") or Path(__file__).resolve().parent.parent / "tmp" / "artifacts")
PHONE_WIDTH = 390


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    """A workbook made by `sheetsync init` + `sync`, served by a real `sheetsync serve` process."""

    def __init__(self, folder: Path, template: str) -> None:
        self.folder = folder
        runner = CliRunner()
        old = Path.cwd()
        os.chdir(folder)
        try:
            for args in (["init", "--template", template], ["sync"]):
                result = runner.invoke(main, args, env={"SHEETSYNC_CONFIG": None})
                assert result.exit_code == 0, result.output
            self.config = load(folder / "sheetsync.toml")
        finally:
            os.chdir(old)
        state = State(folder / ".sheetsync")
        synced = state.get("last_sync")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "SHEETSYNC_PORT": str(self.port), "SHEETSYNC_SYNC_INTERVAL": "3600",
               "SHEETSYNC_CONFIG": str(folder / "sheetsync.toml")}
        self.proc = subprocess.Popen([sys.executable, "-c", "from sheetsync.cli import main; main()", "serve"],
                                     cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 20
        while True:
            assert self.proc.poll() is None, self.proc.communicate()[0]
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                assert time.monotonic() < deadline, "sheetsync serve did not listen within 20 s"
                time.sleep(0.05)
        while state.get("last_sync") == synced and time.monotonic() < deadline + 20:
            time.sleep(0.1)  # serve syncs once at start: compare the page and Summary after that write
        state.close()

    def summary_funnel(self) -> dict[str, tuple[int, Decimal]]:
        """Stage -> (count, amount) as the Summary tab shows them."""
        wb = openpyxl.load_workbook(self.folder / "pipeline.xlsx", read_only=True)
        title = next(t for t in wb.sheetnames if t in ("Summary", "汇总"))
        rows = list(wb[title].iter_rows(min_row=FUNNEL_FIRST_ROW, values_only=True))
        stages = {}
        blanks = 0
        for row in rows:  # open stages, one blank row, then Won and Lost apart, then another blank row
            if not row or row[0] in (None, ""):
                blanks += 1
                if blanks == 2:
                    break
                continue
            if not isinstance(row[1], int):
                break
            stages[str(row[0])] = (int(row[1]), Decimal(str(row[2] or 0)))
        return stages

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.communicate(timeout=20)[0]
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.communicate()[0]


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="sheetsync-chrome-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    s = Site(tmp_path_factory.mktemp("page-en"), "en")
    yield s
    s.stop()


def _wait_for(browser, element_id: str):
    """The element once the page that has it is loaded (a click returns before the next page is there)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    return WebDriverWait(browser, 20).until(expected_conditions.presence_of_element_located((By.ID, element_id)))


def _login(browser, site) -> None:
    browser.delete_all_cookies()
    browser.get(site.url + "/")
    _wait_for(browser, "token").send_keys(site.config.api_token)
    _wait_for(browser, "login-button").click()
    _wait_for(browser, "funnel-table")


def _shot(browser, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    height = browser.execute_script("return document.documentElement.scrollHeight")
    width = browser.execute_script("return window.innerWidth")
    browser.set_window_size(max(width, 320), min(max(height, 600), 4000))
    browser.save_screenshot(str(path))
    assert path.stat().st_size > 1000
    return path


def test_the_page_asks_for_the_token_and_refuses_a_wrong_one(browser, site):
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(site.url + "/")
    assert browser.find_elements(By.ID, "funnel") == []
    _wait_for(browser, "token").send_keys("not-the-token")
    browser.find_element(By.ID, "login-button").click()
    assert "does not match api_token" in _wait_for(browser, "login-message").text
    _shot(browser, "login-refused.png")
    assert browser.find_elements(By.ID, "funnel") == []


def test_after_login_the_cookie_is_httponly_and_the_page_never_shows_the_token(browser, site):
    _login(browser, site)
    cookie = browser.get_cookie("sheetsync_page")
    assert cookie and cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert "sheetsync_page" not in browser.execute_script("return document.cookie")
    assert site.config.api_token not in browser.page_source and site.config.api_token not in cookie["value"]
    for secrets in site.config.secrets.values():
        assert all(secret not in browser.page_source for secret in secrets)


def test_funnel_numbers_match_the_summary_tab(browser, site):
    from selenium.webdriver.common.by import By

    _login(browser, site)
    expected = site.summary_funnel()
    assert expected, "the Summary tab has no funnel rows"
    shown = {}
    for row in browser.find_elements(By.CSS_SELECTOR, "#funnel-table tbody tr"):
        cells = row.find_elements(By.TAG_NAME, "td")
        shown[cells[0].text] = (int(cells[1].text), Decimal(cells[2].text.replace(",", "").replace("¥", "")))
    assert shown == expected
    bars = browser.find_elements(By.CSS_SELECTOR, "svg[data-measure=amount] rect")
    assert len(bars) == len([s for s in browser.find_elements(By.CSS_SELECTOR, "#funnel-table tr.open")])
    _shot(browser, "status-desktop.png")


def test_the_page_fits_a_390_px_phone(browser, site):
    from selenium.webdriver.common.by import By

    _login(browser, site)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    try:
        browser.get(site.url + "/")
        _wait_for(browser, "funnel-table")
        assert browser.execute_script("return window.innerWidth") == PHONE_WIDTH
        assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE_WIDTH
        for section in browser.find_elements(By.TAG_NAME, "section"):
            box = section.rect
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH + 0.5, section.get_attribute("id")
        sizes = browser.execute_script(
            "return Array.from(document.querySelectorAll('td, th, p, dd')).map("
            "e => parseFloat(getComputedStyle(e).fontSize))")
        assert min(sizes) >= 12
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "status-phone-390.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_a_zh_workbook_gets_a_chinese_page(browser, tmp_path_factory):
    from selenium.webdriver.common.by import By

    zh = Site(tmp_path_factory.mktemp("page-zh"), "zh")
    try:
        _login(browser, zh)
        assert browser.find_element(By.TAG_NAME, "h1").text == "商机状态"
        assert "销售漏斗" in browser.find_element(By.ID, "funnel").text
        shown = {row.get_attribute("data-stage"): int(row.get_attribute("data-count"))
                 for row in browser.find_elements(By.CSS_SELECTOR, "#funnel-table tbody tr")}
        assert shown == {stage: count for stage, (count, _) in zh.summary_funnel().items()}
        _shot(browser, "status-zh.png")
    finally:
        zh.stop()
