"""A real browser on the leaderboard: clicking a column header re-sorts the table.

Needs Chromium and its driver (CI installs them); without them the test fails and says
so, rather than being skipped silently.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from tests.factories.scenes import Demo

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("FOOTPRINT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("FOOTPRINT_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"the browser test needs Chromium and chromedriver; not found: {', '.join(missing)}. "
            "Install them (Debian: apt-get install chromium chromium-driver) or point "
            "FOOTPRINT_CHROMIUM / FOOTPRINT_CHROMEDRIVER at them; deselect with -m 'not browser'."
        )
    profile = tempfile.mkdtemp(prefix="footprint-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ):
        options.add_argument(argument)
    # An explicit driver path: Selenium Manager (which would go to the network) is not used.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _ranked_methods(driver: object) -> list[str]:
    from selenium.webdriver.common.by import By

    links = driver.find_elements(By.CSS_SELECTOR, "#leaderboard tbody a.method")  # type: ignore[attr-defined]
    return [link.text for link in links]


def test_clicking_a_column_header_sorts_the_leaderboard(browser: object, live_server: object, demo: Demo) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    driver.get(f"{live_server.url}{demo.leaderboard_url}")  # type: ignore[attr-defined]
    assert _ranked_methods(driver) == ["int8 dynamic", "magnitude pruning 50%"]

    header = driver.find_element(By.CSS_SELECTOR, '#leaderboard thead a[data-sort-key="accuracy"]')  # type: ignore[attr-defined]
    header.click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("sort=accuracy"))

    assert _ranked_methods(driver) == ["magnitude pruning 50%", "int8 dynamic"]
    active = driver.find_element(By.CSS_SELECTOR, "#leaderboard thead th.sorted a")  # type: ignore[attr-defined]
    assert active.get_attribute("data-sort-key") == "accuracy"

    # A second click on the same header reverses the order.
    active.click()
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("sort=-accuracy"))
    assert _ranked_methods(driver) == ["int8 dynamic", "magnitude pruning 50%"]


def test_a_track_tab_narrows_the_board_and_sorting_keeps_it(browser: object, live_server: object, demo: Demo) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.factories.scenes import make_budget_board

    make_budget_board(demo)
    driver = browser
    driver.get(f"{live_server.url}{demo.leaderboard_url}")  # type: ignore[attr-defined]
    assert _ranked_methods(driver) == [
        "just above",
        "int8 dynamic",
        "at the limit",
        "measured small",
        "magnitude pruning 50%",
    ]
    driver.find_element(By.CSS_SELECTOR, '#track-tabs a[data-track="small-lab"]').click()  # type: ignore[attr-defined]
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("track=small-lab"))
    assert _ranked_methods(driver) == ["at the limit", "measured small"]

    driver.find_element(By.CSS_SELECTOR, '#leaderboard thead a[data-sort-key="name"]').click()  # type: ignore[attr-defined]
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("sort=name"))
    assert "track=small-lab" in driver.current_url  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, '#leaderboard thead a[data-sort-key="name"]').click()  # type: ignore[attr-defined]
    WebDriverWait(driver, 10).until(expected_conditions.url_contains("sort=-name"))
    assert "track=small-lab" in driver.current_url  # type: ignore[attr-defined]
    assert _ranked_methods(driver) == ["measured small", "at the limit"]
    active = driver.find_element(By.CSS_SELECTOR, "#track-tabs a.active")  # type: ignore[attr-defined]
    assert active.get_attribute("data-track") == "small-lab"
