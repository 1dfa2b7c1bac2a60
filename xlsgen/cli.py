"""The `xlsgen` command: a thin click layer over the library. Each command parses its
options, calls the library and prints; the work happens in the modules it calls."""

from __future__ import annotations

import functools
import json
import sys
import traceback

import click

from xlsgen import __version__
from xlsgen.errors import XlsgenError

LAYOUTS = ["auto", "ojiya", "joso", "nishitokyo"]


def handles_errors(func):
    """Turn library errors into one Japanese line and an exit code; no traceback
    unless `--debug` was given."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        ctx = click.get_current_context()
        debug = (ctx.find_root().obj or {}).get("debug", False)
        try:
            return func(*args, **kwargs)
        except XlsgenError as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"エラー: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:  # output piped into `head` and closed: not an error
            sys.stderr.close()
            sys.exit(0)
        except Exception as exc:  # noqa: BLE001 - the user must never see a bare traceback
            if debug:
                traceback.print_exc()
            click.echo(
                f"エラー: 予期しない問題が発生しました（{type(exc).__name__}: {exc}）。"
                "--debug を付けて実行すると詳細が表示されます。",
                err=True,
            )
            sys.exit(1)

    return wrapper


def layout_option(func):
    return click.option(
        "--layout",
        type=click.Choice(LAYOUTS),
        default="auto",
        show_default=True,
        help="入力ブックの様式。auto は内容から判定します。",
    )(func)


def dump_json(data, output, inputs=()) -> None:
    """Write JSON (UTF-8, Japanese kept readable) to a file atomically, or to stdout."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if output:
        from xlsgen.atomic import atomic_path

        with atomic_path(output, inputs) as tmp:
            tmp.write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xlsgen")
@click.option("--debug", is_flag=True, help="エラー時に詳細（トレースバック）を表示します。")
@click.pass_context
def cli(ctx, debug):
    """xlsgen: 自治体の進行管理シートを読み取り、検証し、翌年度へ繰り越し、報告書を作ります。"""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    from xlsgen.batch import sigterm_as_interrupt

    sigterm_as_interrupt()  # SIGTERM like Ctrl-C: temporaries are removed on the way out


@cli.command()
@click.argument("book", type=click.Path(dir_okay=False))
@layout_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="JSON の出力先（省略時は標準出力）")
@handles_errors
def extract(book, layout, output):
    """ブックを読み取り、内容をモデル（JSON）として出力します。

    Example:

        xlsgen extract inputs/ojiya_進行管理シート_R3.xlsx -o outputs/ojiya.json
    """
    from xlsgen.read import read_book

    model = read_book(book, layout)
    dump_json(model.to_dict(), output, [book])
    errors = [f for f in model.findings if f.severity.value == "error"]
    for f in errors:
        click.echo(f"エラー: {f.file} {f.sheet or ''}!{f.cell or ''} {f.message}", err=True)
    if errors:
        sys.exit(1)


@cli.command()
@click.argument("book", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="出力形式")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="数式一覧と指摘事項を書き出す .xlsx（各行から該当セルへリンク）")
@handles_errors
def audit(book, fmt, output):
    """ブックのすべての数式を点検します（どの .xlsx でも可。ブックは変更しません）。

    数式の一覧（読み取るセル・名前、参照される数、同じ形の数式のまとまり）と、
    エラー値・循環参照・不明な関数・形の崩れ・数式内の数値・空セル参照・文字列の数値・
    保護漏れ・未使用の入力値・非表示の数式・未計算を指摘します。
    エラーの指摘があれば終了コード 1、なければ 0 です。

    Example:

        xlsgen audit outputs/report.xlsx --format json

        xlsgen audit outputs/report.xlsx -o outputs/report_監査.xlsx
    """
    from xlsgen.atomic import refuse_overwrite
    from xlsgen.audit import audit_workbook

    if output:
        refuse_overwrite(output, [book])
    result = audit_workbook(book)
    if output:
        from xlsgen.render.audit_report import write_audit_report

        write_audit_report(result, output)
    if fmt == "json":
        dump_json(result.to_dict(), None)
    else:
        click.echo(result.to_text())
    sys.exit(1 if result.has_errors else 0)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@layout_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="出力形式")
@handles_errors
def validate(paths, layout, fmt):
    """ブック（またはフォルダ内のブック）を検証し、問題をファイル・シート・セルとともに表示します。

    終了コード: 0 = エラーなし（警告のみ可）、1 = エラーあり、2 = 使い方の誤り。

    Example:

        xlsgen validate inputs/ --format json
    """
    from xlsgen.validate import validate_paths

    reports = validate_paths(paths, layout)
    if fmt == "json":
        dump_json({"files": [r.to_dict() for r in reports]}, None)
    else:
        for r in reports:
            errors = sum(f.severity.value == "error" for f in r.findings)
            click.echo(f"{r.path}: {'OK' if r.ok else 'NG'}（エラー {errors} 件、警告 {len(r.findings) - errors} 件）")
            for f in r.findings:
                where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or f.cell or "-")
                label = "エラー" if f.severity.value == "error" else "警告"
                click.echo(f"  [{label}] {where} {f.code}: {f.message}")
    sys.exit(0 if all(r.ok for r in reports) else 1)


@cli.command()
@click.argument("templates", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="書き出す Excel ブック（.xlsx）。")
@handles_errors
def simulate(templates, output):
    """シミュレーション・報告書テンプレート（YAML）から、計算式が生きた Excel ブックを作ります。

    テンプレート1つで1モデルのブック、複数ならモデルごとのシート一式と比較シート（表-2）を
    作ります。kind: survey のテンプレート（アンケート集計）は1つずつ指定します。
    資料の不整合や公表値との不一致は警告として表示し、チェックシートにも載せます。

    \b
    Example:
        xlsgen simulate templates/simulations/mitaka_model_a.yaml -o outputs/model_a.xlsx
        xlsgen simulate templates/simulations/mitaka_model_a.yaml \\
            templates/simulations/mitaka_model_b.yaml -o outputs/mitaka.xlsx
        xlsgen simulate templates/reports/setagaya_forum_survey.yaml -o outputs/survey.xlsx
    """
    from xlsgen.simulation import run_simulate

    for line in run_simulate(list(templates), output):
        click.echo(line, err=line.startswith("警告"))


@cli.command()
@click.argument("book", type=click.Path(dir_okay=False))
@click.option("--to", "to", required=True, help="繰り越し先の年度（R4 / 2022 / 令和4年度）。翌年度だけを指定できます。")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="新しい年度版の出力先（.xlsx）")
@click.option("--extend-to", help="計画の目標年度を過ぎる場合の新しい目標年度（例: R8）")
@handles_errors
def rollforward(book, to, output, extend_to):
    """ブックを翌年度版へ繰り越し、同じ様式で書き出します（小千谷・常総の様式）。

    前年度の値はすべて残し、変更はセルごとに「変更履歴」シートに記録します。

    Example:

        xlsgen rollforward inputs/ojiya_進行管理シート_R3.xlsx --to R4 -o outputs/ojiya_R4.xlsx
    """
    import re
    from collections import Counter

    from xlsgen.rollforward import rollforward_file
    from xlsgen.wareki import FiscalYear

    from xlsgen.atomic import refuse_overwrite

    refuse_overwrite(output, [book])
    result = rollforward_file(book, to, output, extend_to)
    click.echo(f"{FiscalYear(result.from_year).kanji}版 → {FiscalYear(result.to_year).kanji}版: "
               f"{result.output}（変更 {len(result.changes)} セル、「変更履歴」シートを確認してください）")
    for reason, n in Counter(re.sub(r"（指標「.*」）$", "", c.reason) for c in result.changes).most_common():
        click.echo(f"  {n:4d}  {reason}")
    for c in result.changes[:10]:
        click.echo(f"  {c.sheet}!{c.cell}: {_short(c.before)} → {_short(c.after)}")
    if len(result.changes) > 10:
        click.echo(f"  …ほか {len(result.changes) - 10} 件")
    for f in result.findings[:10]:
        click.echo(f"警告: {f.sheet}!{f.cell} {f.message}", err=True)
    if len(result.findings) > 10:
        click.echo(f"警告: …ほか {len(result.findings) - 10} 件（空の実績値）", err=True)


def _short(value, width: int = 30) -> str:
    text = "（空欄）" if value in (None, "") else str(value).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


@cli.command()
@click.argument("book", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="報告書の出力先（.xlsx）")
@click.option("--no-protect", is_flag=True, help="シートの保護をかけません。")
@handles_errors
def build(book, output, no_protect):
    """PDCA 報告書ブック（数式入り・印刷設定済み）を作ります。

    Example:

        xlsgen build inputs/ojiya_進行管理シート_R3.xlsx -o outputs/ojiya_報告書.xlsx
    """
    from xlsgen.batch import build_file

    result = build_file(book, output, protect=not no_protect)
    click.echo(f"{output}: 施策シート {result['sheets']}、指標 {result['kpis']}")


@cli.command()
@click.argument("in_dir", default="inputs", type=click.Path(file_okay=False))
@click.option("-o", "--output", "out_dir", default="outputs", show_default=True,
              type=click.Path(file_okay=False), help="報告書と 検証結果.xlsx の出力先フォルダ")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="同時に処理するファイル数（省略時は CPU コア数）")
@click.option("--no-protect", is_flag=True, help="報告書のシートを保護しません。")
@click.option("--rollforward-to", help="各ブックをこの年度版へ繰り越し <名前>_R4.xlsx を書き出します（例: R4）")
@handles_errors
def run(in_dir, out_dir, jobs, no_protect, rollforward_to):
    """フォルダ内のブックをすべて読み取り・検証し、報告書を作ります（年次処理）。

    失敗したファイルは理由を表示して次へ進みます。1 つでも失敗すると終了コードは 1 です。

    Example:

        xlsgen run inputs -o outputs --jobs 2
    """
    from xlsgen.batch import run as run_batch

    def progress(stream, length):
        return click.progressbar(stream, length=length, label="処理中", file=sys.stderr)

    s = run_batch(in_dir, out_dir, jobs, {"protect": not no_protect, "rollforward_to": rollforward_to},
                  progress)
    for r in s["failed"]:
        click.echo(f"失敗: {r['reason']}", err=True)
    for k in s["skipped"]:
        click.echo(f"対象外: {k['name']}（{k['reason']}）", err=True)
    click.echo(f"ファイル {s['files']}（失敗 {len(s['failed'])}）、シート {s['sheets']}、"
               f"指標 {s['kpis']}、エラー {s['errors']}、警告 {s['warnings']}、"
               f"{s['seconds']:.1f} 秒、対象外 {len(s['skipped'])}。検証結果: {s['summary']}")
    if s["failed"]:
        sys.exit(1)
