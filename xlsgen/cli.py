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


def _layout_help() -> str:
    from xlsgen import app

    names = "、".join(app.layout_names())
    shipped = f"同梱: {names}" if names else f"同梱の様式ファイルが見つかりません（探した場所: {app.layouts_folder()}）"
    return (f"入力ブックの様式の名前（xlsgen/templates/layouts/ とブックと同じフォルダの layouts/ にある"
            f"様式ファイル。{shipped}）。auto は内容から判定します。")


def layout_option(func):
    return click.option(
        "--layout",
        default="auto",
        show_default=True,
        help=_layout_help(),
    )(func)


def layout_file_option(func):
    return click.option(
        "--layout-file",
        type=click.Path(),
        default=None,
        help="この様式ファイル（YAML）で読みます。当てはまらないブックは読みません。",
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
    from xlsgen.app import sigterm_as_interrupt

    sigterm_as_interrupt()  # SIGTERM like Ctrl-C: temporaries are removed on the way out


@cli.command()
@click.argument("book", type=click.Path())
@layout_option
@layout_file_option
@click.option("-o", "--output", type=click.Path(), help="JSON の出力先（省略時は標準出力）")
@handles_errors
def extract(book, layout, layout_file, output):
    """ブックを読み取り、内容をモデル（JSON）として出力します。

    Example:

        xlsgen extract inputs/進行管理シート_R3.xlsx -o outputs/進行管理シート_R3.json
    """
    from xlsgen import app

    model = app.extract_book(book, layout, layout_file)
    dump_json(model.to_dict(), output, [book])
    errors = [f for f in model.findings if f.severity.value == "error"]
    for f in errors:
        click.echo(f"エラー: {f.file} {f.sheet or ''}!{f.cell or ''} {f.message}", err=True)
    if errors:
        sys.exit(1)


@cli.command()
@click.argument("book", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="出力形式")
@click.option("-o", "--output", type=click.Path(),
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
    from xlsgen import app

    result = app.audit_file(book, output)
    if fmt == "json":
        dump_json(result.to_dict(), None)
    else:
        click.echo(result.to_text())
    sys.exit(1 if result.has_errors else 0)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@layout_option
@layout_file_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="出力形式")
@handles_errors
def validate(paths, layout, layout_file, fmt):
    """ブック（またはフォルダ内のブック）を検証し、問題をファイル・シート・セルとともに表示します。

    終了コード: 0 = エラーなし（警告のみ可）、1 = エラーあり、2 = 使い方の誤り。

    Example:

        xlsgen validate inputs/ --format json
    """
    from xlsgen import app

    skipped: list = []
    reports = app.validate_files(paths, layout, layout_file, skipped)
    if fmt == "json":
        dump_json({"files": [r.to_dict() for r in reports],
                   "skipped": [{"path": str(p), "reason": why} for p, why in skipped]}, None)
    else:
        for p, why in skipped:
            click.echo(f"{p}: 対象外（{why}）")
        for r in reports:
            errors = sum(f.severity.value == "error" for f in r.findings)
            click.echo(f"{r.path}: {'OK' if r.ok else 'NG'}（エラー {errors} 件、警告 {len(r.findings) - errors} 件）")
            for f in r.findings:
                where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else (f.sheet or f.cell or "-")
                label = "エラー" if f.severity.value == "error" else "警告"
                click.echo(f"  [{label}] {where} {f.code}: {f.message}")
    sys.exit(0 if all(r.ok for r in reports) else 1)


@cli.command()
@click.argument("templates", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(),
              help="書き出す Excel ブック（.xlsx）。")
@handles_errors
def simulate(templates, output):
    """シミュレーション・報告書テンプレート（YAML）から、計算式が生きた Excel ブックを作ります。

    テンプレート1つで1モデルのブック、複数ならモデルごとのシート一式と比較シート（表-2）を
    作ります。kind: survey のテンプレート（アンケート集計）は1つずつ指定します。
    資料の不整合や公表値との不一致は警告として表示し、チェックシートにも載せます。

    \b
    Example:
        xlsgen simulate xlsgen/templates/simulations/mitaka_model_a.yaml -o outputs/model_a.xlsx
        xlsgen simulate xlsgen/templates/simulations/mitaka_model_a.yaml \\
            xlsgen/templates/simulations/mitaka_model_b.yaml -o outputs/mitaka.xlsx
        xlsgen simulate xlsgen/templates/reports/setagaya_forum_survey.yaml -o outputs/survey.xlsx
    """
    from xlsgen import app

    for line in app.simulate_templates(list(templates), output):
        click.echo(line, err=line.startswith("警告"))


@cli.command()
@click.argument("book", type=click.Path())
@click.option("--to", "to", required=True, help="繰り越し先の年度（R4 / 2022 / 令和4年度）。翌年度だけを指定できます。")
@click.option("-o", "--output", required=True, type=click.Path(), help="新しい年度版の出力先（.xlsx）")
@click.option("--extend-to", help="年度の列が足りない場合に列を加える年度（例: R8）。1シート1施策の様式では新しい目標年度、"
              "1行1指標・年度が列のKPIブロックの様式ではこの年度までの列を加えます")
@layout_option
@layout_file_option
@handles_errors
def rollforward(book, to, output, extend_to, layout, layout_file):
    """ブックを翌年度版へ繰り越し、同じ様式で書き出します（様式ファイルに rollforward: supported: true がある様式）。

    前年度の値はすべて残し、変更はセルごとに「変更履歴」シートに記録します。

    Example:

        xlsgen rollforward inputs/進行管理シート_R3.xlsx --to R4 -o outputs/進行管理シート_R4.xlsx
    """
    from xlsgen import app

    result = app.rollforward_file(book, to, output, extend_to, layout, layout_file)
    for line in app.rollforward_lines(result):
        click.echo(line, err=line.startswith("警告"))


@cli.command()
@click.argument("book", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(),
              help="報告書の出力先（.xlsx）")
@click.option("--no-protect", is_flag=True, help="シートの保護をかけません。")
@layout_option
@layout_file_option
@handles_errors
def build(book, output, no_protect, layout, layout_file):
    """PDCA 報告書ブック（数式入り・印刷設定済み）を作ります。

    Example:

        xlsgen build inputs/進行管理シート_R3.xlsx -o outputs/進行管理シート_R3_報告書.xlsx
    """
    from xlsgen import app

    result = app.build_file(book, output, protect=not no_protect, layout=layout,
                            layout_file=layout_file)
    click.echo(f"{output}: 施策シート {result['sheets']}、指標 {result['kpis']}")


@cli.command()
@click.argument("in_dir", default="inputs", type=click.Path())
@click.option("-o", "--output", "out_dir", default="outputs", show_default=True,
              type=click.Path(), help="報告書と 検証結果.xlsx の出力先フォルダ")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="同時に処理するファイル数（省略時は CPU コア数）")
@click.option("--no-protect", is_flag=True, help="報告書のシートを保護しません。")
@click.option("--rollforward-to", help="各ブックをこの年度版へ繰り越し <名前>_R4.xlsx を書き出します（例: R4）")
@layout_option
@layout_file_option
@handles_errors
def run(in_dir, out_dir, jobs, no_protect, rollforward_to, layout, layout_file):
    """フォルダ内のブックをすべて読み取り・検証し、報告書を作ります（年次処理）。

    失敗したファイルは理由を表示して次へ進みます。1 つでも失敗すると終了コードは 1 です。

    Example:

        xlsgen run inputs -o outputs --jobs 2
    """
    from xlsgen import app

    def progress(stream, length):
        return click.progressbar(stream, length=length, label="処理中", file=sys.stderr)

    s = app.run_folder(in_dir, out_dir, jobs, {"protect": not no_protect, "rollforward_to": rollforward_to,
                                               "layout": layout, "layout_file": layout_file},
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


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0,
              help="待ち受けるポート番号（省略または 0 で空いている番号）")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="待ち受けるアドレス。127.0.0.1 以外にするとネットワーク上の他の PC からも使えます。")
@click.option("--no-browser", is_flag=True, help="ブラウザを自動で開きません。")
@handles_errors
def serve(port, host, no_browser):
    """ブラウザで使う画面を起動します（このパソコンの中だけ・インターネット不要）。

    表示された URL（token 付き）を開き、ブックをドロップすると、指摘事項・報告書・
    翌年度版・検証結果.xlsx・監査をその画面で受け取れます。Ctrl+C で終了します。

    Example:

        xlsgen serve
    """
    from xlsgen.web.server import serve as run_server

    run_server(host, port, open_browser=not no_browser)


@cli.group()
def layout():
    """様式ファイル（xlsgen/templates/layouts/*.yaml）を確かめます。書き方は docs/layouts.md。

    Example:

        xlsgen layout check xlsgen/templates/layouts/kpi_list.yaml 総合戦略KPI一覧.xlsx
    """


@layout.command("check")
@click.argument("spec", type=click.Path())
@click.argument("book", type=click.Path())
@handles_errors
def layout_check(spec, book):
    """様式ファイル SPEC でブック BOOK を読み、シートごとに見出し・項目がどのセルから読めたか、
    何が見つからないかを表示します。当てはまらなければ終了コード 1 です。

    Example:

        xlsgen layout check layouts/my_city.yaml inputs/進行管理シート_R3.xlsx
    """
    from xlsgen import app

    ok, lines = app.check_layout(spec, book)
    for line in lines:
        click.echo(line)
    sys.exit(0 if ok else 1)
