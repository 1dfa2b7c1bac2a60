"""End to end: the real `xlsgen serve` process driven by headless Chromium (Debian's
`chromium` + `chromium-driver` through Selenium; nothing is downloaded at test time; under
CI=true these tests fail rather than skip without a browser). axe-core is vendored in
tests/axe/ and injected into the page.

Set XLSGEN_SCREENSHOT_DIR to keep screenshots of the pages (1366×768) there; those in
docs/ come from it.
"""

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import openpyxl
import pytest
from conftest import NISHITOKYO, OJIYA, ROOT
from web_books import bigger_book

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
URL_LINE = re.compile(r"^http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]{16,})$")
AXE = ROOT / "tests" / "axe" / "axe.min.js"
REBIND = "rebind.test"  # Chromium resolves it to 127.0.0.1: a DNS-rebinding page's name


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


def _serve(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp_path), XLSGEN_CONFIG_DIR=str(tmp_path / "config"))
    return subprocess.Popen([sys.executable, "-m", "xlsgen", "serve", "--no-browser", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)


@pytest.fixture
def server(tmp_path):
    """`python -m xlsgen serve --no-browser --port 0`; yields (base URL, token)."""
    proc = _serve(tmp_path, "--port", "0")
    try:
        line = proc.stdout.readline().strip()
        m = URL_LINE.match(line)
        assert m, f"unexpected first line: {line!r} / {proc.stderr.read() if proc.poll() is not None else ''}"
        yield f"http://127.0.0.1:{m.group(1)}", m.group(2)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not list(tmp_path.glob("xlsgen-web-*")), "upload folder left behind at exit"


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """One headless Chromium for a test module (starting one costs a second); each test
    gets it clean through `browser`."""
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1366,768", "--lang=ja",
                 "--force-device-scale-factor=1", f"--host-resolver-rules=MAP {REBIND} 127.0.0.1",
                 f"--user-data-dir={profile / 'profile'}"):
        opts.add_argument(flag)
    opts.add_experimental_option("prefs", {"download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium, tmp_path):
    """The module's Chromium as a new browser would be: one blank tab, its own download
    folder, no cookies or stored data, no emulated screen, 1366 × 768."""
    driver = chromium
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    try:
        yield driver
    finally:
        for handle in driver.window_handles[1:]:
            driver.switch_to.window(handle)
            driver.close()
        driver.switch_to.window(driver.window_handles[0])
        driver.execute_script("try { localStorage.clear(); sessionStorage.clear(); } catch (e) {}")
        driver.get("about:blank")
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
        driver.set_window_size(1366, 768)


def _shot(driver, name, element=None):
    folder = os.environ.get("XLSGEN_SCREENSHOT_DIR")
    if folder:
        if element is not None:
            driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", element)
            time.sleep(0.2)
        driver.save_screenshot(str(Path(folder) / name))


def _wait(predicate, timeout=120, what=""):
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _by():
    from selenium.webdriver.common.by import By

    return By


def _jobs(driver):
    return driver.find_elements(_by().CSS_SELECTOR, "#jobs section.job")


def _send(driver, *paths):
    """Choose files in the page's file input; returns the new job's section once every
    file in it has finished."""
    By = _by()
    before = {s.get_attribute("data-job") for s in _jobs(driver)}
    driver.find_element(By.CSS_SELECTOR, "input#book-input[type=file]").send_keys("\n".join(map(str, paths)))
    return _finished_job(driver, before, len(paths))


def _finished_job(driver, before, n, timeout=180):
    By = _by()

    def done():
        new = [s for s in _jobs(driver) if s.get_attribute("data-job") not in before]
        if new and len(new[0].find_elements(By.CSS_SELECTOR, "article.file[data-status]")) == n:
            return new[0]
        return None

    return _wait(done, timeout, "the job to finish")


def _cards(section):
    return section.find_elements(_by().CSS_SELECTOR, "article.file")


def _download(driver, link, suffix=".xlsx"):
    before = set(driver.downloads.glob(f"*{suffix}"))
    link.click()
    path = _wait(lambda: [p for p in driver.downloads.glob(f"*{suffix}") if p not in before], what="a download")[0]
    _wait(lambda: not list(driver.downloads.glob("*.crdownload")), what="download to finish")
    return path


def _axe(driver, what):
    """Run axe-core (WCAG 2.0/2.1 A and AA rules) on the page; no serious or critical."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        "  .then(r => done(JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact,"
        "     nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))))"
        "  .catch(e => done(JSON.stringify([{id: 'axe-error', impact: 'critical', nodes: [String(e)]}])));")
    bad = [v for v in json.loads(result) if v["impact"] in ("serious", "critical")]
    assert not bad, f"{what}: {bad}"


def _body_text(driver) -> str:
    """The page's text, or "" while a navigation replaces the page."""
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        WebDriverException,
    )

    try:
        return driver.find_element(_by().TAG_NAME, "body").text
    except (StaleElementReferenceException, NoSuchElementException):
        return ""
    except WebDriverException as exc:  # Chromium's word for the same race: the body went away
        if "does not belong to the document" in str(exc):
            return ""
        raise


def _no_sideways_scroll(driver, what):
    width = driver.execute_script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"{what}: scrolls sideways ({width[0]} > {width[1]})"


# --- a clerk's day ------------------------------------------------------------------------


def test_browser_year_of_work(browser, server, tmp_path):
    By = _by()
    base, token = server
    # no token: a friendly page that says how to get in (by HTTP status, and in the browser)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(base + "/")
    assert refused.value.code == 403
    browser.get(base + "/")
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "このページを開くには" in body and "「xlsgen」 アイコン" in body
    _shot(browser, "serve_0_way_in.png")
    _axe(browser, "the way-in page")

    browser.get(f"{base}/?token={token}")
    assert "ドロップ" in browser.find_element(By.TAG_NAME, "body").text
    assert "Ctrl+C" not in browser.find_element(By.TAG_NAME, "body").text
    _shot(browser, "serve_1_start.png")
    _axe(browser, "the start page")

    # the city workbook: findings with file, sheet and cell
    job = _send(browser, OJIYA)
    card = _cards(job)[0]
    assert card.get_attribute("data-status") == "done"
    assert "様式: 小千谷市 進行管理シート" in card.find_element(By.CSS_SELECTOR, ".summary").text
    rows = card.find_elements(By.CSS_SELECTOR, "table.findings tbody tr")
    cells = [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]
    assert cells and all(c[1] == "入力" and c[2] not in ("", "-") and re.match(r"[A-Z]{1,3}\d+", c[3]) for c in cells), cells
    heads = [th.text for th in card.find_elements(By.CSS_SELECTOR, "table.findings th")]
    assert heads == ["重要度", "ファイル", "シート", "セル", "内容"]
    tips = [td.get_attribute("title") for td in card.find_elements(By.CSS_SELECTOR, "td.message")]
    assert all(t.startswith("種類: ") for t in tips)  # the code in a tooltip, never in the text
    assert not any("actual-far-past-target" in r.text for r in rows)
    _shot(browser, "serve_2_findings.png", job)
    _axe(browser, "the page with findings")
    # filter by text: only matching rows remain
    needle = cells[0][2]
    card.find_element(By.CSS_SELECTOR, ".text-filter").send_keys(needle)
    shown = card.find_elements(By.CSS_SELECTOR, "table.findings tbody tr")
    assert shown and all(needle in r.text for r in shown)

    labels = [a.text for a in card.find_elements(By.CSS_SELECTOR, ".downloads a")]
    assert labels == ["報告書", "令和4年度版", "監査"]  # one clear button for the one valid edition
    report = _download(browser, card.find_element(By.LINK_TEXT, "報告書"))
    assert report.name == f"{OJIYA.stem}_報告書.xlsx" and len(openpyxl.load_workbook(report).sheetnames) > 3
    edition = _download(browser, card.find_element(By.LINK_TEXT, "令和4年度版"))
    assert edition.name == f"{OJIYA.stem}_R4.xlsx" and "変更履歴" in openpyxl.load_workbook(edition).sheetnames
    assert job.find_element(By.LINK_TEXT, "検証結果.xlsx").is_displayed()

    # a broken file: the Japanese message on the page
    broken = tmp_path / "壊れた.xlsx"
    broken.write_text("これは Excel ではありません,1,2\n", encoding="utf-8")
    job = _send(browser, broken)
    card = _cards(job)[0]
    assert card.get_attribute("data-status") == "failed"
    reason = card.find_element(By.CSS_SELECTOR, ".reason").text
    assert reason.startswith("壊れた.xlsx: ") and "Excel ブック（.xlsx）ではありません" in reason
    _shot(browser, "serve_3_broken.png", job)

    # a file dropped on the page (a DragEvent with a DataTransfer, as a real drop sends)
    before = {s.get_attribute("data-job") for s in _jobs(browser)}
    browser.execute_script(
        "const dt = new DataTransfer();"
        "dt.items.add(new File(['not a workbook'], '落とした.xlsx'));"
        "document.querySelector('#drop').dispatchEvent("
        "  new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));")
    card = _cards(_finished_job(browser, before, 1))[0]
    assert card.find_element(By.CSS_SELECTOR, ".reason").text.startswith("落とした.xlsx: Excel ブック")
    # the earlier results are still listed, with their downloads
    assert len(_jobs(browser)) == 3
    first = _jobs(browser)[-1]
    assert first.find_element(By.CSS_SELECTOR, ".job-toggle").get_attribute("aria-expanded") == "false"
    first.find_element(By.CSS_SELECTOR, ".job-toggle").click()
    assert first.find_element(By.LINK_TEXT, "報告書").is_displayed()


def test_browser_several_files_groups_and_keyboard_sorting(browser, server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    By = _by()
    base, token = server
    browser.get(f"{base}/?token={token}")
    books = sorted((ROOT / "inputs").glob("*.xlsx"))
    job = _send(browser, *books)
    assert job.find_element(By.LINK_TEXT, "すべて（zip）").is_displayed()
    cards = _cards(job)
    assert [c.find_element(By.CSS_SELECTOR, ".name").text for c in cards] == [b.name for b in books]
    _shot(browser, "serve_6_several.png", job)
    # 西東京: the 39 H35 notices are one row with a count, after the 5 that matter
    card = next(c for c in cards if c.find_element(By.CSS_SELECTOR, ".name").text == NISHITOKYO.name)
    rows = card.find_elements(By.CSS_SELECTOR, "table.findings tbody tr")
    assert len(rows) == 6 and "（39 セル）" in rows[-1].text and "令和5年度" in rows[-1].text
    expander = rows[-1].find_element(By.CSS_SELECTOR, "button.expander")
    assert expander.text == "39 セルを表示" and expander.get_attribute("aria-expanded") == "false"
    browser.execute_script("arguments[0].focus()", expander)
    ActionChains(browser).send_keys(Keys.ENTER).perform()  # keyboard only
    assert expander.get_attribute("aria-expanded") == "true"
    listed = [li.find_element(By.CSS_SELECTOR, ".ref").text for li in rows[-1].find_elements(By.CSS_SELECTOR, "ul.cells li")]
    assert len(listed) == 39 and listed[:3] == ["施策体系!H2", "施策体系!H3", "施策体系!H5"]
    odd = rows[-1].find_elements(By.CSS_SELECTOR, "ul.cells li .item-message")
    assert [e.text for e in odd] == ["「H32」は平成31年度より後の年度です。令和2年度（2020年度）として読みます"]
    _shot(browser, "serve_7_grouped.png", card)
    _axe(browser, "findings with an open group")
    copy = rows[-1].find_element(By.CSS_SELECTOR, "ul.cells li button.copy")
    browser.execute_script("arguments[0].focus()", copy)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    _wait(lambda: browser.execute_script("return window.lastCopied") == "'施策体系'!H2", what="the copy")
    _wait(lambda: "Ctrl+G" in browser.find_element(By.ID, "announce").get_attribute("textContent"), what="the notice")

    # sort by セル with the keyboard alone: Tab reaches the header button, Enter sorts
    card = max(cards, key=lambda c: len(c.find_elements(By.CSS_SELECTOR, "table.findings tbody tr")))
    filt = card.find_element(By.CSS_SELECTOR, ".text-filter")
    browser.execute_script("arguments[0].focus()", filt)
    head = card.find_element(By.CSS_SELECTOR, "th[data-key=cell]")
    for _ in range(6):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.execute_script("return document.activeElement.closest('th')?.dataset.key") == "cell":
            break
    assert browser.execute_script("return document.activeElement.closest('th')?.dataset.key") == "cell"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    cells = [td.text.split()[0] for td in card.find_elements(By.CSS_SELECTOR, "table.findings tbody td.cell")]
    key = [(len(re.match(r"[A-Z]+", c).group()), re.match(r"[A-Z]+", c).group(), int(re.search(r"\d+", c).group()))
           for c in cells if c != "-"]
    assert len(set(cells)) > 1 and key == sorted(key)
    assert head.get_attribute("aria-sort") == "ascending"
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    assert head.get_attribute("aria-sort") == "descending"
    Select(card.find_element(By.CSS_SELECTOR, ".sev-filter")).select_by_value("warning")
    shown = {td.text for td in card.find_elements(By.CSS_SELECTOR, "table.findings tbody td:first-child")}
    assert shown == {"警告"}
    bundle = _download(browser, job.find_element(By.LINK_TEXT, "すべて（zip）"), ".zip")
    import zipfile

    names = zipfile.ZipFile(bundle).namelist()
    assert "検証結果.xlsx" in names and all(f"{b.stem}_報告書.xlsx" in names for b in books)


def test_browser_keyboard_only_tabs_and_no_invisible_focus_stops(browser, server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    By = _by()
    base, token = server
    browser.get(f"{base}/?token={token}")
    # walk the whole page with Tab: every stop is visible; the file input is never one
    stops = []
    for _ in range(12):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        info = browser.execute_script(
            "const e = document.activeElement; const r = e.getBoundingClientRect();"
            "const s = getComputedStyle(e);"
            "return [e.id || e.tagName, r.width, r.height, s.opacity, s.visibility, e.type || ''];")
        stops.append(info[0])
        assert info[1] >= 8 and info[2] >= 8 and float(info[3]) > 0 and info[4] == "visible", info
        assert info[5] != "file", info
    assert "tab-books" in stops and "choose-books" in stops and "book-input" not in stops
    # tabs: arrow keys move and select, aria-selected follows, one tab stop for the list
    tab = browser.find_element(By.ID, "tab-books")
    browser.execute_script("arguments[0].focus()", tab)
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
    sim = browser.find_element(By.ID, "tab-sim")
    assert browser.switch_to.active_element == sim and sim.get_attribute("aria-selected") == "true"
    assert tab.get_attribute("aria-selected") == "false" and tab.get_attribute("tabindex") == "-1"
    assert browser.find_element(By.ID, "sim").is_displayed() and not browser.find_element(By.ID, "books").is_displayed()
    assert browser.current_url.endswith("#sim")
    ActionChains(browser).send_keys(Keys.HOME).perform()
    assert tab.get_attribute("aria-selected") == "true" and browser.find_element(By.ID, "books").is_displayed()
    ActionChains(browser).send_keys(Keys.END).perform()
    assert browser.find_element(By.ID, "tab-round").get_attribute("aria-selected") == "true"  # the last tab
    ActionChains(browser).send_keys(Keys.ARROW_LEFT).perform()
    assert sim.get_attribute("aria-selected") == "true"
    ActionChains(browser).send_keys(Keys.ARROW_LEFT).perform()
    assert tab.get_attribute("aria-selected") == "true"
    # choose files with the keyboard: Enter on the one visible button opens the chooser
    browser.execute_script(
        "document.getElementById('book-input').addEventListener('click', e => { window.chooserOpened = true;"
        " e.preventDefault(); });")
    browser.execute_script("document.getElementById('choose-books').focus()")
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert browser.execute_script("return window.chooserOpened") is True
    job = _send(browser, OJIYA)  # what the chooser hands over
    # reach the report link with Tab from the card's heading and download it with Enter
    link = job.find_element(By.LINK_TEXT, "報告書")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});"
                           "document.querySelector('#jobs .job-toggle').focus()", link)
    for _ in range(10):
        if browser.switch_to.active_element == link:
            break
        ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element == link
    before = set(browser.downloads.glob("*.xlsx"))
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    got = _wait(lambda: [p for p in browser.downloads.glob("*.xlsx") if p not in before], what="download")[0]
    _wait(lambda: not list(browser.downloads.glob("*.crdownload")), what="download to finish")
    assert got.name == f"{OJIYA.stem}_報告書.xlsx"


def test_browser_reload_mid_job_gets_the_results_back_and_back_restores_the_view(browser, server, tmp_path):
    By = _by()
    base, token = server
    browser.get(f"{base}/?token={token}")
    big = bigger_book(OJIYA, tmp_path / "大きいブック.xlsx", 8)
    browser.find_element(By.CSS_SELECTOR, "input#book-input").send_keys(f"{big}\n{NISHITOKYO}")
    job_id = _wait(lambda: re.search(r"#job=([0-9a-f]{16})", browser.current_url), what="the job in the address").group(1)
    # wait until both files are on the server and the big one is being processed, then reload
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, f"section[data-job='{job_id}'] article.file[data-state=running]")
          and browser.find_element(By.CSS_SELECTOR, f"section[data-job='{job_id}'] article.file .bar").get_attribute("aria-valuenow") != "0",
          what="processing")
    moving = browser.find_element(By.CSS_SELECTOR, f"section[data-job='{job_id}'] .progress-text").text
    assert moving and moving != "送信中…"
    browser.refresh()
    assert browser.current_url.endswith(f"#job={job_id}")
    section = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, f"section[data-job='{job_id}']"), what="the job after reload")[0]
    assert section.find_element(By.CSS_SELECTOR, ".job-toggle").get_attribute("aria-expanded") == "true"
    _wait(lambda: len(section.find_elements(By.CSS_SELECTOR, "article.file[data-status=done]")) == 2, 240, "results after reload")
    cards = _cards(section)
    assert cards[0].find_element(By.CSS_SELECTOR, ".name").text == "大きいブック.xlsx"
    report = _download(browser, cards[0].find_element(By.LINK_TEXT, "報告書"))
    assert report.name == "大きいブック_報告書.xlsx" and len(openpyxl.load_workbook(report, read_only=True).sheetnames) > 200
    _shot(browser, "serve_8_history.png")
    # a second upload is a second entry in the address; back and forward move between them
    second = _send(browser, OJIYA).get_attribute("data-job")
    assert browser.current_url.endswith(f"#job={second}")
    browser.back()
    _wait(lambda: browser.current_url.endswith(f"#job={job_id}"), what="back")
    first = browser.find_element(By.CSS_SELECTOR, f"section[data-job='{job_id}']")
    _wait(lambda: first.find_element(By.CSS_SELECTOR, ".job-toggle").get_attribute("aria-expanded") == "true", what="the first job open")
    browser.forward()
    _wait(lambda: browser.current_url.endswith(f"#job={second}"), what="forward")
    # the simulation tab is in the address too: a reload brings it back
    browser.find_element(By.ID, "tab-sim").click()
    browser.refresh()
    _wait(lambda: browser.find_element(By.ID, "tab-sim").get_attribute("aria-selected") == "true", what="the tab after reload")


def test_browser_cancel_a_running_book_and_remove_a_job(browser, server, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    By = _by()
    base, token = server
    browser.get(f"{base}/?token={token}")
    big = bigger_book(OJIYA, tmp_path / "big.xlsx", 10)
    browser.find_element(By.CSS_SELECTOR, "input#book-input").send_keys(str(big))
    card = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#jobs article.file[data-state=running]"),
                 what="running")[0]
    assert "処理中" in card.find_element(By.CSS_SELECTOR, ".status").text
    button = card.find_element(By.CSS_SELECTOR, "button.cancel-file")
    assert button.is_displayed() and button.get_attribute("aria-label") == "big.xlsx の処理を中止"
    browser.execute_script("arguments[0].focus()", button)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    _wait(lambda: card.get_attribute("data-status") == "cancelled", 30, "cancelled")
    assert "中止" in card.find_element(By.CSS_SELECTOR, ".status").text
    assert "中止しました" in card.find_element(By.CSS_SELECTOR, ".reason").text
    assert not card.find_elements(By.CSS_SELECTOR, ".downloads a")
    # remove the job from the list (confirmed), it is gone after a reload too
    section = _jobs(browser)[0]
    job_id = section.get_attribute("data-job")
    browser.execute_script("window.confirm = () => true")
    section.find_element(By.CSS_SELECTOR, "button.delete-job").click()
    _wait(lambda: not browser.find_elements(By.CSS_SELECTOR, f"section[data-job='{job_id}']"), what="removed")
    browser.get(f"{base}/#job={job_id}")
    _wait(lambda: "削除されました" in browser.find_element(By.ID, "drop-note").text, what="the honest note")


def test_browser_duplicate_file_in_one_drop(browser, server):
    By = _by()
    base, token = server
    browser.get(f"{base}/?token={token}")
    before = {s.get_attribute("data-job") for s in _jobs(browser)}
    data = list(OJIYA.read_bytes()[:2000])
    browser.execute_script(
        "const bytes = new Uint8Array(arguments[0]); const dt = new DataTransfer();"
        "dt.items.add(new File([bytes], '同じ.xlsx')); dt.items.add(new File([bytes], '同じ.xlsx'));"
        "document.querySelector('#drop').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));",
        data)
    section = _finished_job(browser, before, 2)
    assert "同じファイルが2回選ばれていました（同じ.xlsx）" in browser.find_element(By.ID, "drop-note").text
    states = [c.find_element(By.CSS_SELECTOR, ".status").text for c in _cards(section)]
    assert states == ["失敗", "重複のため処理せず"]


def test_browser_simulation(browser, server):
    from selenium.webdriver.support.ui import Select

    By = _by()
    base, token = server
    browser.get(f"{base}/?token={token}")
    browser.find_element(By.ID, "tab-sim").click()
    select = _wait(lambda: len(Select(browser.find_element(By.ID, "template-select")).options) > 1
                   and Select(browser.find_element(By.ID, "template-select")), what="templates")
    titles = [o.text for o in select.options]
    assert not any("進行管理シート" in t or "KPI一覧" in t or "施策体系" in t for t in titles), titles  # no layouts
    select.select_by_value("mitaka_model_a")
    field = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "input[name='販売単価']"), what="driver form")[0]
    salary = browser.find_element(By.CSS_SELECTOR, "input[name='社員月給']")
    assert salary.get_attribute("value") == "250,000"  # separators, never 2.5e+5
    field.clear()
    field.send_keys("abc")
    browser.find_element(By.CSS_SELECTOR, "#sim-form button[type=submit]").click()
    error = browser.find_element(By.ID, f"{field.get_attribute('id')}-error")
    assert field.get_attribute("aria-invalid") == "true" and "「abc」は数値ではありません" in error.text
    assert browser.switch_to.active_element == field
    assert error.get_attribute("id") in field.get_attribute("aria-describedby")
    assert "テンプレート" not in browser.find_element(By.ID, "sim-error").text
    assert not browser.find_element(By.ID, "sim-result").is_displayed()
    _axe(browser, "the simulation form with a marked field")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", field)
    _shot(browser, "serve_9_field_error.png")
    field.clear()
    field.send_keys("12,000")
    _shot(browser, "serve_4_simulation.png")
    browser.find_element(By.CSS_SELECTOR, "#sim-form button[type=submit]").click()
    _wait(lambda: browser.find_element(By.ID, "sim-result").is_displayed(), what="simulation result")
    assert field.get_attribute("aria-invalid") == "false" and not error.text
    lines = browser.find_element(By.ID, "sim-lines").text
    assert "作成しました" in lines and not re.search(r"\d[eE][+-]?\d", lines)
    _shot(browser, "serve_5_simulation_result.png", browser.find_element(By.ID, "sim-result"))
    book = _download(browser, browser.find_element(By.ID, "sim-download"))
    wb = openpyxl.load_workbook(book)
    sheet, ref = next(iter(wb.defined_names["販売単価"].destinations))
    assert wb[sheet][ref.replace("$", "")].value == 12000


def test_browser_at_200_percent_zoom_nothing_scrolls_sideways(browser, server):
    from selenium.webdriver.support.ui import Select

    By = _by()
    base, token = server
    browser.get(f"{base}/?token={token}")
    job = _send(browser, NISHITOKYO, OJIYA)
    job.find_element(By.CSS_SELECTOR, "button.expander").click()
    # 200 % of a 1366-pixel window: 683 CSS pixels across, each drawn twice as large
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 683, "height": 384, "deviceScaleFactor": 2, "mobile": False})
    try:
        time.sleep(0.3)
        assert browser.execute_script("return window.innerWidth") == 683
        _no_sideways_scroll(browser, "results at 200%")
        browser.find_element(By.ID, "tab-sim").click()
        select = _wait(lambda: len(Select(browser.find_element(By.ID, "template-select")).options) > 1
                       and Select(browser.find_element(By.ID, "template-select")), what="templates")
        select.select_by_value("mitaka_model_a")
        field = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "input[name='販売単価']"), what="drivers")[0]
        field.clear()
        field.send_keys("abc")
        browser.find_element(By.CSS_SELECTOR, "#sim-form button[type=submit]").click()
        _no_sideways_scroll(browser, "the simulation tab at 200%")
        browser.get(f"{base}/no-such-page")
        _no_sideways_scroll(browser, "a message page at 200%")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# --- attacks through the browser ------------------------------------------------------------


EVIL = """<!doctype html><html><body><h1>Free wallpapers</h1>
<form id="f" method="post" action="{app}/api/jobs" enctype="multipart/form-data">
<input name="x" value="1"></form>
<script>
(async () => {{
  const opts = {{method: "POST", credentials: "include", mode: "no-cors"}};
  await fetch("{app}/api/jobs", opts).catch(() => 0);
  const fd = new FormData(); fd.append("file", new Blob(["PK"]), "a.xlsx");
  await fetch("{app}/api/jobs/0123456789abcdef/books", {{...opts, body: fd}}).catch(() => 0);
  await fetch("{app}/api/quit", opts).catch(() => 0);
  document.title = "sent";
  if (location.hash !== "#nosubmit") document.getElementById("f").submit();
}})();
</script></body></html>"""


@pytest.fixture
def evil_site(server):
    """A page on another local port (same site, other origin) that posts to the app."""
    app = server[0]
    page = EVIL.format(app=app).encode("utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_browser_a_page_from_another_origin_cannot_act_with_the_clerks_cookie(browser, server, evil_site):
    By = _by()
    base, token = server
    browser.get(f"{base}/?token={token}")  # the clerk is signed in: the cookie is in the browser
    cookie = next(c for c in browser.get_cookies() if c["name"] == "xlsgen_token")
    assert cookie["sameSite"] == "Strict" and cookie["httpOnly"]

    def jobs():
        req = urllib.request.Request(base + "/api/jobs", headers={"X-Xlsgen-Token": token})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())["jobs"]

    browser.get(evil_site + "/#nosubmit")
    _wait(lambda: browser.title == "sent", 30, "the attack's fetches")
    browser.get(evil_site + "/")  # now with the form posted as a top-level navigation
    _wait(lambda: browser.current_url.startswith(base), 30, "the form post")
    _wait(lambda: "このページ以外からの操作は受け付けません" in _body_text(browser), 30, "the refusal")
    assert jobs() == []  # nothing was created
    # the cookie does go along from the other port (same site): only the Origin check stopped it
    browser.get(evil_site + "/#nosubmit")
    browser.execute_script(f"location.href = '{base}/'")
    _wait(lambda: "ドロップ" in _body_text(browser), 30, "the app with the cookie")
    # and the server still runs (the quit was refused)
    with urllib.request.urlopen(f"{base}/?token={token}", timeout=10) as r:
        assert r.status == 200
    # a DNS-rebinding name for 127.0.0.1 reaches the server but is refused by its Host
    port = base.rsplit(":", 1)[1]
    browser.get(f"http://{REBIND}:{port}/?token={token}")
    assert "このアドレスでは開けません" in browser.find_element(By.TAG_NAME, "body").text


def test_browser_shared_mode_sign_in(browser, tmp_path):
    from click.testing import CliRunner

    from xlsgen.cli import cli

    By = _by()
    res = CliRunner(env={"XLSGEN_CONFIG_DIR": str(tmp_path / "config")}).invoke(
        cli, ["serve", "--add-user", "企画政策課"], input="kikaku-password-1\nkikaku-password-1\n")
    assert res.exit_code == 0
    proc = _serve(tmp_path, "--host", "0.0.0.0", "--port", "0")
    try:
        port = re.search(r":(\d+)/", proc.stdout.readline()).group(1)
        browser.get(f"http://127.0.0.1:{port}/")
        assert browser.current_url.endswith("/login")
        _axe(browser, "the sign-in page")
        browser.find_element(By.ID, "user").send_keys("企画政策課")
        browser.find_element(By.ID, "password").send_keys("wrong-password-x")
        browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
        _wait(lambda: browser.find_elements(By.ID, "login-error"), 30, "the sign-in error")
        assert "パスワードが違います" in browser.find_element(By.ID, "login-error").text
        _axe(browser, "the sign-in page with an error")
        browser.find_element(By.ID, "user").send_keys("企画政策課")
        browser.find_element(By.ID, "password").send_keys("kikaku-password-1")
        browser.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
        _wait(lambda: "企画政策課 でサインイン中" in _body_text(browser), 30, "signed in")
        _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "input#book-input"), 30, "the page")
        job = _send(browser, NISHITOKYO)
        assert _cards(job)[0].get_attribute("data-status") == "done"
        assert not browser.find_elements(By.ID, "quit")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
