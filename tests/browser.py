"""Driving the dashboard in Debian's Chromium through Debian's chromedriver (selenium): for the
browser tests and the W5 benchmark. Nothing is downloaded: both binaries come from apt."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def have_chromium() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium(profile: Path) -> webdriver.Chrome:
    """Headless Chromium with a new profile and no background networking: this machine's network
    is closed, and the page is on localhost."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1600,1300", f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def until(driver, timeout: float, condition):
    """Wait for `condition`, through the moments the page is redrawing the element it reads."""
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(condition)


def lever(driver, lever_id: str):
    key = json.dumps({"id": lever_id, "type": "lever"}, separators=(",", ":"))
    return driver.find_element(By.CSS_SELECTOR, f"[id='{key}']")


def type_into(element, value) -> None:
    element.send_keys(Keys.CONTROL, "a")
    element.send_keys(str(value), Keys.ENTER)  # the input sends its value on Enter (debounced)


def choose(driver, lever_id: str, text: str) -> None:
    lever(driver, lever_id).click()
    until(driver, 10, lambda d: d.find_elements(By.CSS_SELECTOR, "[role='option']"))
    next(o for o in driver.find_elements(By.CSS_SELECTOR, "[role='option']") if o.text == text).click()


def progress(driver) -> str:
    return driver.find_element(By.ID, "progress").text
