"""End to end: the real `xlsgen serve` process driven by headless Chromium (Debian's
`chromium` + `chromium-driver` through Selenium; nothing is downloaded at test time).

Set XLSGEN_SCREENSHOT_DIR to keep screenshots of the pages (1366×768) there.
"""

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import openpyxl
import pytest
from conftest import OJIYA, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
URL_LINE = re.compile(r"^http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{16,})$")


def _need_browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium")
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"under CI=true the browser test must run; missing: {missing}")
        pytest.skip(f"missing: {missing}")


@pytest.fixture
def server(tmp_path):
    """`python -m xlsgen serve --no-browser --port 0`; yields (base URL, token)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "xlsgen", "serve", "--no-browser", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=tmp_path)
    try:
        line = proc.stdout.readline().strip()
        m = URL_LINE.match(line)
        assert m, f"unexpected first line: {line!r} / {proc.stderr.read() if proc.poll() is not None else ''}"
        yield f"http://127.0.0.1:{m.group(1)}", m.group(2)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert not list(tmp_path.glob("xlsgen-web-*")), "upload folder left behind at exit"


@pytest.fixture
def browser(tmp_path):
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1366,768", "--lang=ja",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver, name, element=None):
    folder = os.environ.get("XLSGEN_SCREENSHOT_DIR")
    if folder:
        if element is not None:
            driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", element)
        driver.save_screenshot(str(Path(folder) / name))


def _wait(predicate, timeout=120, what=""):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _upload_and_wait(driver, path: Path | None, action=None):
    """Choose `path` in the file input (or run `action`); return the card once processed
    (each choice replaces the previous cards)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    old = driver.find_elements(By.CSS_SELECTOR, "article.file")

    def gone():
        try:
            old[0].get_attribute("class")
            return False
        except StaleElementReferenceException:
            return True

    if action:
        action()
    else:
        driver.find_element(By.CSS_SELECTOR, "input#book-input[type=file]").send_keys(str(path))
    _wait(lambda: (not old or gone())
          and driver.find_elements(By.CSS_SELECTOR, "article.file[data-status]"),
          what=f"result of {path or action}")
    return driver.find_elements(By.CSS_SELECTOR, "article.file[data-status]")[-1]


def test_browser_year_of_work(browser, server, tmp_path):
    from selenium.webdriver.common.by import By

    base, token = server
    # refused without the token: by HTTP status, and in the browser
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(base + "/")
    assert refused.value.code == 403
    browser.get(base + "/")
    assert "アクセスできません" in browser.find_element(By.TAG_NAME, "body").text

    browser.get(f"{base}/?token={token}")
    assert "ドロップ" in browser.find_element(By.TAG_NAME, "body").text
    _shot(browser, "serve_1_start.png")

    # the city workbook: findings with sheet and cell
    card = _upload_and_wait(browser, OJIYA)
    assert card.get_attribute("data-status") == "done"
    rows = card.find_elements(By.CSS_SELECTOR, "table.findings tbody tr")
    assert rows
    cells = [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]
    assert all(c[1] not in ("", "-") and re.fullmatch(r"[A-Z]{1,3}\d+", c[2]) for c in cells), cells
    heads = [th.text for th in card.find_elements(By.CSS_SELECTOR, "table.findings th")]
    assert heads[:4] == ["重要度", "シート", "セル", "内容"]
    _shot(browser, "serve_2_findings.png", card)
    # filter by text: only matching rows remain
    needle = cells[0][1]
    card.find_element(By.CSS_SELECTOR, ".text-filter").send_keys(needle)
    shown = card.find_elements(By.CSS_SELECTOR, "table.findings tbody tr")
    assert shown and all(needle in r.text for r in shown)

    # the 報告書 link downloads the report workbook
    link = card.find_element(By.LINK_TEXT, "報告書")
    link.click()
    report = _wait(lambda: [p for p in browser.downloads.glob("*.xlsx")], what="the 報告書 download")[0]
    _wait(lambda: not list(browser.downloads.glob("*.crdownload")), what="download to finish")
    assert report.name == f"{OJIYA.stem}_報告書.xlsx"
    wb = openpyxl.load_workbook(report)
    assert len(wb.sheetnames) > 3
    labels = {a.text for a in card.find_elements(By.CSS_SELECTOR, ".downloads a")}
    assert {"報告書", "翌年度版", "監査"} <= labels
    assert browser.find_element(By.LINK_TEXT, "検証結果.xlsx").is_displayed()

    # a broken file: the Japanese message on the page
    broken = tmp_path / "壊れた.xlsx"
    broken.write_text("これは Excel ではありません,1,2\n", encoding="utf-8")
    card = _upload_and_wait(browser, broken)
    assert card.get_attribute("data-status") == "failed"
    reason = card.find_element(By.CSS_SELECTOR, ".reason").text
    assert reason.startswith("壊れた.xlsx: ") and "Excel ブック（.xlsx）ではありません" in reason
    _shot(browser, "serve_3_broken.png", card)

    # a file dropped on the page (a DragEvent with a DataTransfer, as a real drop sends)
    def drop_text_file():
        browser.execute_script(
            "const dt = new DataTransfer();"
            "dt.items.add(new File(['not a workbook'], '落とした.xlsx'));"
            "document.querySelector('#drop').dispatchEvent("
            "  new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));")

    card = _upload_and_wait(browser, None, drop_text_file)
    assert card.get_attribute("data-status") == "failed"
    assert card.find_element(By.CSS_SELECTOR, ".reason").text.startswith("落とした.xlsx: Excel ブック")

    # and the page still works
    card = _upload_and_wait(browser, OJIYA)
    assert card.get_attribute("data-status") == "done"
    assert card.find_elements(By.CSS_SELECTOR, "table.findings tbody tr")


def test_browser_several_files_and_zip(browser, server):
    import zipfile

    from selenium.webdriver.common.by import By

    base, token = server
    browser.get(f"{base}/?token={token}")
    books = sorted((ROOT / "inputs").glob("*.xlsx"))
    browser.find_element(By.CSS_SELECTOR, "input#book-input[type=file]").send_keys("\n".join(map(str, books)))
    _wait(lambda: len(browser.find_elements(By.CSS_SELECTOR, "article.file[data-status=done]")) == len(books)
          and browser.find_element(By.ID, "zip-link").is_displayed(), what="all files")
    cards = browser.find_elements(By.CSS_SELECTOR, "article.file")
    assert [c.find_element(By.CSS_SELECTOR, ".name").text for c in cards] == [b.name for b in books]
    for c in cards:  # errors first in every table
        sev = [td.text for td in c.find_elements(By.CSS_SELECTOR, "table.findings tbody td:first-child")]
        assert sev == sorted(sev, key=lambda s: s != "エラー")
    _shot(browser, "serve_6_several.png", cards[0])
    # sort by セル (by column then row, as in Excel), then back
    card = max(cards, key=lambda c: len(c.find_elements(By.CSS_SELECTOR, "table.findings tbody tr")))
    head = card.find_element(By.CSS_SELECTOR, "table.findings th[data-key=cell]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", head)
    head.click()
    cells = [td.text for td in card.find_elements(By.CSS_SELECTOR, "table.findings tbody td:nth-child(3)")]
    key = [(len(re.match(r"[A-Z]+", c).group()), re.match(r"[A-Z]+", c).group(), int(re.search(r"\d+", c).group()))
           for c in cells if c != "-"]
    assert len(set(cells)) > 1 and key == sorted(key)
    assert head.get_attribute("aria-sort") == "ascending"
    head.click()
    assert head.get_attribute("aria-sort") == "descending"
    # filter by severity: only that severity is listed
    from selenium.webdriver.support.ui import Select

    Select(card.find_element(By.CSS_SELECTOR, ".sev-filter")).select_by_value("warning")
    shown = {td.text for td in card.find_elements(By.CSS_SELECTOR, "table.findings tbody td:first-child")}
    assert shown == {"警告"}
    browser.find_element(By.ID, "zip-link").click()
    bundle = _wait(lambda: list(browser.downloads.glob("*.zip")), what="the zip")[0]
    _wait(lambda: not list(browser.downloads.glob("*.crdownload")), what="download to finish")
    names = zipfile.ZipFile(bundle).namelist()
    assert "検証結果.xlsx" in names and all(f"{b.stem}_報告書.xlsx" in names for b in books)


def test_browser_simulation(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base, token = server
    browser.get(f"{base}/?token={token}")
    browser.find_element(By.ID, "tab-sim").click()
    select = _wait(lambda: len(Select(browser.find_element(By.ID, "template-select")).options) > 1
                   and Select(browser.find_element(By.ID, "template-select")), what="templates")
    select.select_by_value("mitaka_model_a")
    field = _wait(lambda: browser.find_elements(By.ID, "driver-販売単価"), what="driver form")[0]
    field.clear()
    field.send_keys("12000")
    _shot(browser, "serve_4_simulation.png")
    browser.find_element(By.CSS_SELECTOR, "#sim-form button[type=submit]").click()
    _wait(lambda: browser.find_element(By.ID, "sim-result").is_displayed(), what="simulation result")
    assert "作成しました" in browser.find_element(By.ID, "sim-lines").text
    _shot(browser, "serve_5_simulation_result.png", browser.find_element(By.ID, "sim-result"))
    browser.find_element(By.LINK_TEXT, "シミュレーション").click()
    book = _wait(lambda: [p for p in browser.downloads.glob("*.xlsx")], what="simulation download")[0]
    _wait(lambda: not list(browser.downloads.glob("*.crdownload")), what="download to finish")
    wb = openpyxl.load_workbook(book)
    sheet, ref = next(iter(wb.defined_names["販売単価"].destinations))
    assert wb[sheet][ref.replace("$", "")].value == 12000
