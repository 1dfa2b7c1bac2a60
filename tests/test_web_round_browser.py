"""The 照会と回収 tab end to end: the real `xlsgen serve` in headless Chromium (fixtures and
helpers of test_web_browser.py). A planning clerk sends last year's 小千谷 book, presses
「令和4年度版を作って照会する」, downloads the forms zip, gets three forms back (filled here
with openpyxl as the departments would, one with a wrong value, one corrected and sent
again later), drops them as they arrive, watches the status table fill, opens a
department's problems with the keyboard, reloads, and downloads the merged master and the
diff; the tab is reached and used with the keyboard, checked with axe-core, and at 200 %
zoom nothing scrolls sideways.

Set XLSGEN_SCREENSHOT_DIR to keep the screenshots (docs/serve_round_*.png come from it).
"""

import re
import zipfile

import openpyxl
from conftest import OJIYA
from roundtrip_forms import fill, inputs, jst
from test_web_browser import (  # noqa: F401 - fixtures
    _axe,
    _by,
    _download,
    _no_sideways_scroll,
    _shot,
    _wait,
    browser,
    chromium,
    server,
)

from xlsgen.layout import read_book
from xlsgen.roundtrip.assignment import AMOUNT, KPI, NUMBER

FY = 2021  # the R4 edition asks for the R3 actuals


def _answer(a, n):
    if a.value_type != NUMBER:
        return f"{a.departments[0]}の回答（{n}）"
    if a.group == AMOUNT:
        return 2000 + n
    return round(20.5 + n / 10, 1) if a.unit == "%" else 300 + n


def _answers(form, bump=0):
    return {k: _answer(i.assignment, n + bump) for n, (k, i) in enumerate(inputs(form).items())
            if len(i.assignment.departments) == 1}


def _keys(browser, *keys):
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(browser).send_keys(*keys).perform()


def _round(browser):
    return browser.find_element(_by().CSS_SELECTOR, "#round-view .round")


def _status_rows(browser):
    """The status table as {department: [cell texts]}, read in one step (it re-renders)."""
    return browser.execute_script(
        "const out = {};"
        "document.querySelectorAll('.status-table tbody tr:not(.problem-row)').forEach(tr => {"
        "  out[tr.querySelector('th').innerText] = Array.from(tr.querySelectorAll('td')).map(td => td.innerText); });"
        "return out;")


def _collected(browser, submitted):
    """Wait until the collection shows `submitted` departments and nothing is running."""
    By = _by()

    def done():
        summary = browser.find_element(By.CSS_SELECTOR, ".status-summary").text
        busy = browser.find_element(By.CSS_SELECTOR, ".collect-progress").is_displayed()
        return not busy and summary.startswith(f"提出 {submitted} / ") and "回収中" not in summary and summary

    return _wait(done, 180, f"{submitted} departments collected")


def test_browser_round_trip(browser, server, tmp_path):
    from selenium.webdriver.common.keys import Keys

    By = _by()
    base, token = server
    browser.get(f"{base}/?token={token}")
    # the tab with the keyboard: from the first tab, End selects 照会と回収
    first = browser.find_element(By.ID, "tab-books")
    browser.execute_script("arguments[0].focus()", first)
    _keys(browser, Keys.END)
    tab = browser.find_element(By.ID, "tab-round")
    assert browser.switch_to.active_element == tab and tab.get_attribute("aria-selected") == "true"
    assert tab.get_attribute("tabindex") == "0" and first.get_attribute("tabindex") == "-1"
    assert browser.find_element(By.ID, "round").is_displayed() and not browser.find_element(By.ID, "books").is_displayed()
    assert browser.current_url.endswith("#round")
    _keys(browser, Keys.ARROW_RIGHT)  # wraps to the first tab, and back
    assert first.get_attribute("aria-selected") == "true"
    _keys(browser, Keys.ARROW_LEFT)
    assert tab.get_attribute("aria-selected") == "true"
    # Tab from the tab list reaches the one visible chooser button; the file input is no stop
    _keys(browser, Keys.TAB)
    for _ in range(6):
        if browser.switch_to.active_element.get_attribute("id") == "choose-master":
            break
        assert browser.switch_to.active_element.get_attribute("type") != "file"
        _keys(browser, Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "choose-master"
    body = browser.find_element(By.ID, "round").text
    assert not re.search(r"xlsgen [a-z]|--[a-z]", body)  # no terminal talk
    _shot(browser, "serve_round_0_start.png")
    _axe(browser, "the 照会と回収 tab")

    # 1. last year's book: one clear button for the next edition
    browser.find_element(By.CSS_SELECTOR, "input#master-input").send_keys(str(OJIYA))
    button = _wait(lambda: [b for b in browser.find_elements(By.CSS_SELECTOR, ".choices button") if b.is_displayed()],
                   120, "the edition buttons")
    labels = [b.text for b in button]
    assert labels == ["令和3年度版のまま照会する", "令和4年度版を作って照会する"], labels
    roll = button[1]
    assert "primary" in roll.get_attribute("class")  # the book's inputs are filled: last year's edition
    about = browser.find_element(By.ID, roll.get_attribute("aria-describedby")).text
    assert "令和3年度の実績と評価" in about
    assert "小千谷市 進行管理シート・令和3年度版" in _round(browser).find_element(By.CSS_SELECTOR, ".master-about").text
    round_id = re.search(r"#round=([0-9a-f]{16})", browser.current_url).group(1)
    browser.find_element(By.CSS_SELECTOR, "input.due").send_keys("2022年5月31日")
    browser.execute_script("arguments[0].focus()", roll)
    _keys(browser, Keys.ENTER)
    link = _wait(lambda: [a for a in browser.find_elements(By.CSS_SELECTOR, "a.forms-zip") if a.is_displayed()],
                 120, "the forms zip")[0]
    assert "照会様式と回収先マスター" in link.text
    summary = browser.find_element(By.CSS_SELECTOR, ".dist-summary").text
    assert "令和4年度版の照会様式 9 件" in summary and "提出期限: 2022年5月31日" in summary
    assert len(browser.find_elements(By.CSS_SELECTOR, ".forms-table tbody tr")) == 9
    _shot(browser, "serve_round_1_forms.png", _round(browser))
    bundle = _download(browser, link, ".zip")
    names = zipfile.ZipFile(bundle).namelist()
    master_name = "ojiya_進行管理シート_R4.xlsx"
    assert master_name in names and len([n for n in names if n.startswith("各課に送る様式/")]) == 9
    out = tmp_path / "zip"
    zipfile.ZipFile(bundle).extractall(out)
    forms = {p.name.split("_")[0]: p for p in (out / "各課に送る様式").glob("*.xlsx")}
    # the status table lists every department before anything came back
    rows = _status_rows(browser)
    assert set(rows) == set(forms) and all(r[0] == "未提出" for r in rows.values())

    # 2. forms come back: two at once (one with a wrong value), then a correction
    back = tmp_path / "back"
    trade = _answers(forms["商工振興課"])
    bad = next(i.assignment for i in inputs(forms["商工振興課"]).values()
               if i.assignment.group == KPI and i.assignment.value_type == NUMBER and len(i.assignment.departments) == 1)
    trade[bad.key] = "たくさん"
    farm = _answers(forms["農林課"])
    first_trade = fill(forms["商工振興課"], back / forms["商工振興課"].name, trade, jst(20))
    first_farm = fill(forms["農林課"], back / "v1" / forms["農林課"].name, farm, jst(21))
    browser.find_element(By.CSS_SELECTOR, "input.forms-input").send_keys(f"{first_trade}\n{first_farm}")
    _collected(browser, 2)
    rows = _status_rows(browser)
    assert rows["商工振興課"][0] == "提出" and rows["農林課"][0] == "提出" and rows["福祉課"][0] == "未提出"
    filled, inputs_ = map(int, re.match(r"(\d+) / (\d+)", rows["商工振興課"][1]).groups())
    assert filled == inputs_ == len(inputs(forms["商工振興課"]))
    assert "2022年5月20日 09:00" in rows["商工振興課"][5]  # the form's saved time and when it came
    assert "受付" in rows["商工振興課"][5]
    # the problems of a department, opened with the keyboard: department, sheet and cell in words
    expander = browser.find_element(By.CSS_SELECTOR, ".status-table button[data-key='problems-商工振興課']")
    assert expander.get_attribute("aria-expanded") == "false"
    browser.execute_script("arguments[0].focus()", expander)
    _keys(browser, Keys.ENTER)
    assert expander.get_attribute("aria-expanded") == "true"
    listing = browser.find_element(By.ID, expander.get_attribute("aria-controls"))
    assert listing.is_displayed()
    problem = next(li.text for li in listing.find_elements(By.CSS_SELECTOR, "li.problem") if "たくさん" in li.text)
    assert "エラー" in problem and "様式の「数値の入力」シート" in problem and f"マスターの「{bad.sheet}」シート {bad.cell}" in problem
    assert "商工振興課の指摘" in listing.text and first_trade.name in listing.text
    assert "not-a-number" not in listing.text  # the code is a tooltip only
    _shot(browser, "serve_round_2_status.png", browser.find_element(By.CSS_SELECTOR, ".step-collect"))
    _axe(browser, "the status table with a department's problems open")

    # a corrected 農林課 form saved later, and a file that is no form: the status follows
    kpi = next(i.assignment for i in inputs(forms["農林課"]).values()
               if i.assignment.group == KPI and i.assignment.value_type == NUMBER and i.assignment.key in farm)
    farm[kpi.key] = 4321
    second_farm = fill(forms["農林課"], back / "v2" / forms["農林課"].name, farm, jst(25))
    stray = tmp_path / "メモ.xlsx"
    openpyxl.Workbook().save(stray)
    browser.find_element(By.CSS_SELECTOR, "input.forms-input").send_keys(f"{second_farm}\n{stray}")
    _wait(lambda: "2022年5月25日" in _status_rows(browser).get("農林課", ["", "", "", "", "", ""])[5], 180, "the correction")
    _collected(browser, 2)
    farm_row = _status_rows(browser)["農林課"]
    assert f"差し替え前: {forms['農林課'].name}" in farm_row[5] and "（2回目）" in farm_row[5]
    rejected = browser.find_element(By.CSS_SELECTOR, ".rejected").text
    assert "メモ.xlsx" in rejected and "照会様式ではありません" in rejected
    # the open list stayed open while the table filled
    assert browser.find_element(By.CSS_SELECTOR, "button[data-key='problems-商工振興課']").get_attribute("aria-expanded") == "true"

    # a reload brings the round back from the server, as it was
    browser.refresh()
    assert browser.current_url.endswith(f"#round={round_id}")
    _wait(lambda: _status_rows(browser).get("農林課", [""])[0] == "提出", 60, "the round after reload")
    assert browser.find_element(By.ID, "tab-round").get_attribute("aria-selected") == "true"
    # another tab, then back: the round again
    browser.find_element(By.ID, "tab-books").click()
    assert not browser.find_element(By.ID, "round").is_displayed()
    browser.back()
    _wait(lambda: browser.current_url.endswith(f"#round={round_id}"), 30, "back")
    _wait(lambda: browser.find_element(By.ID, "round").is_displayed()
          and _status_rows(browser).get("農林課", [""])[0] == "提出", 30, "the round after back")

    # 3. the merged master and its diff
    result = browser.find_element(By.CSS_SELECTOR, ".step-result")
    merged = _download(browser, result.find_element(By.CSS_SELECTOR, "a[data-kind=merged]"))
    assert merged.name == "ojiya_進行管理シート_R4_回収.xlsx"
    book = read_book(merged)
    actuals = {f"{k.sheet or m.sheet}!{k.actual(FY).cell}": k.actual(FY).value
               for m in book.measures for k in m.kpis if k.actual(FY) is not None}
    assert actuals[kpi.where] == 4321  # the corrected value landed
    assert actuals[bad.where] is None  # the wrong one did not
    wb = openpyxl.load_workbook(merged, read_only=True)
    status = {r[0]: r[1] for r in wb["回収状況"].iter_rows(min_row=2, values_only=True)}
    assert status["商工振興課"] == "提出" and status["福祉課"] == "未提出"
    diff = _download(browser, result.find_element(By.CSS_SELECTOR, "a[data-kind=diff]"))
    assert diff.name == "ojiya_進行管理シート_R4_回収_変更点.xlsx"
    sheet = openpyxl.load_workbook(diff)["変更点"]
    listed = sum(1 for r in sheet.iter_rows(min_row=2, values_only=True) if r[0])
    title = result.find_element(By.CSS_SELECTOR, ".diff-title").text
    assert title == f"変更点: {OJIYA.name}（令和3年度版）→ ojiya_進行管理シート_R4_回収.xlsx（令和4年度版）"
    count = result.find_element(By.CSS_SELECTOR, ".diff-count").text
    assert count == f"{listed} / {listed} 件を表示" and listed > 20
    page_rows = result.find_elements(By.CSS_SELECTOR, ".diff-table tbody tr")
    assert any("4321" in r.text and kpi.label in r.text for r in page_rows)
    _shot(browser, "serve_round_3_result.png", result)
    _axe(browser, "the merged master and its diff")
    # 200 % zoom: the tab wraps instead of scrolling sideways
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 683, "height": 384, "deviceScaleFactor": 2, "mobile": False})
    try:
        _no_sideways_scroll(browser, "the 照会と回収 tab at 200%")
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _master_with_a_lowered_target(tmp_path):
    """The R4 edition of the book, with one target lowered by hand (as a clerk might when
    making the edition); returns (master, KPI name)."""
    from xlsgen import app as A
    from xlsgen.model import Edit, Plan
    from xlsgen.package import Package, apply_plan

    rolled = tmp_path / "rolled" / "ojiya_進行管理シート_R4.xlsx"
    rolled.parent.mkdir()
    A.rollforward_file(OJIYA, "R4", rolled)
    book = read_book(rolled)
    m, k = next((m, k) for m in book.measures for k in m.kpis
                if k.target is not None and isinstance(k.target.value, (int, float)) and k.target.value > 10
                and k.target.cell and k.direction.value != "down")
    pkg = Package(rolled)
    apply_plan(pkg, Plan(edits=[Edit(k.sheet or m.sheet, k.target.cell, k.target.value / 2, "目標を下げた")]))
    master = tmp_path / "ojiya_進行管理シート_R4.xlsx"
    pkg.write(master)
    return master, k.name


def test_browser_compared_with_last_years_book_a_lowered_target_is_called_out(browser, server, tmp_path):
    from selenium.webdriver.support.ui import Select

    By = _by()
    base, token = server
    master, kpi = _master_with_a_lowered_target(tmp_path)
    browser.get(f"{base}/?token={token}#round")
    _wait(lambda: browser.find_element(By.ID, "round").is_displayed(), 30, "the tab from the address")
    browser.find_element(By.CSS_SELECTOR, "input#master-input").send_keys(str(master))
    same = _wait(lambda: [b for b in browser.find_elements(By.CSS_SELECTOR, ".choices button")
                          if b.text == "令和4年度版のまま照会する"], 120, "the edition buttons")[0]
    assert "primary" in same.get_attribute("class")  # an edition still to be filled
    same.click()
    link = _wait(lambda: [a for a in browser.find_elements(By.CSS_SELECTOR, "a.forms-zip") if a.is_displayed()],
                 120, "the forms zip")[0]
    bundle = _download(browser, link, ".zip")
    zipfile.ZipFile(bundle).extractall(tmp_path / "zip")
    form = next((tmp_path / "zip" / "各課に送る様式").glob("商工振興課_*.xlsx"))
    back = fill(form, tmp_path / "back" / form.name, _answers(form), jst(20))
    browser.find_element(By.CSS_SELECTOR, "input.forms-input").send_keys(str(back))
    _collected(browser, 1)
    result = browser.find_element(By.CSS_SELECTOR, ".step-result")
    assert not result.find_element(By.CSS_SELECTOR, ".flagged").is_displayed()
    assert "配ったときのマスターと比べています" in result.find_element(By.CSS_SELECTOR, ".compare-line").text
    # last year's book to compare with: the lowered target is called out above the list
    result.find_element(By.CSS_SELECTOR, "input.base-input").send_keys(str(OJIYA))
    callout = _wait(lambda: [c for c in browser.find_elements(By.CSS_SELECTOR, ".step-result .flagged") if c.is_displayed()],
                    120, "the callout")[0]
    lowered = [li.text for li in callout.find_elements(By.CSS_SELECTOR, "li.lowered")]
    assert any(t.startswith("【目標の引き下げ】") and kpi in t for t in lowered), lowered
    title = browser.find_element(By.CSS_SELECTOR, ".step-result .diff-title").text
    assert title.startswith(f"変更点: {OJIYA.name}（令和3年度版）→ ")
    Select(browser.find_element(By.CSS_SELECTOR, ".diff-kind")).select_by_visible_text("監査の注意だけ")
    rows = browser.find_elements(By.CSS_SELECTOR, ".diff-table tbody tr")
    assert rows and all("【目標" in r.text or "【基準値" in r.text for r in rows)
    _shot(browser, "serve_round_4_lowered.png", browser.find_element(By.CSS_SELECTOR, ".step-result"))
    _axe(browser, "the diff with a lowered target called out")
