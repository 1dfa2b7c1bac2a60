"""The `xlsgen` command: a thin click layer over the library. Each command parses its
options, calls the library and prints; the work happens in the modules it calls."""

from __future__ import annotations

import functools
import json
import sys
import traceback

import click

from xlsgen.errors import XlsgenError

# True when this process is one `xlsgen` command (`main`), not a program calling `cli`
_ONE_COMMAND = [False]


def main() -> None:
    """The `xlsgen` program (the console script and `python -m xlsgen`)."""
    _ONE_COMMAND[0] = True
    try:
        cli(prog_name="xlsgen")
    finally:
        _ending()


def _ending() -> None:
    """The command's objects live until the process ends: exempt them from the cyclic
    collector, whose full passes (one more at exit) would walk them all for nothing
    (0.2 s each after auditing 40,000 formulas). Only for a process of its own."""
    if _ONE_COMMAND[0]:
        import gc

        gc.freeze()


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


class _LayoutOption(click.Option):
    """--layout, whose help lists the shipped layouts only when help is shown (loading
    the layout files at every start would cost each command its time)."""

    @property
    def help(self):
        return _layout_help()

    @help.setter
    def help(self, _value):
        pass


def layout_option(func):
    return click.option("--layout", cls=_LayoutOption, default="auto", show_default=True)(func)


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


def _print_version(ctx, _param, value) -> None:
    if not value or ctx.resilient_parsing:
        return
    from xlsgen import __version__

    click.echo(f"xlsgen {__version__}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="バージョンを表示して終了します。")
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
    _ending()  # what is left is printing the result
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
@click.argument("templates", nargs=-1, type=click.Path())
@click.option("-o", "--output", type=click.Path(), help="書き出す Excel ブック（.xlsx）。")
@click.option("--list", "list_", is_flag=True, help="同梱のテンプレートの名前を一覧表示します。")
@handles_errors
def simulate(templates, output, list_):
    """シミュレーション・報告書テンプレート（YAML）から、計算式が生きた Excel ブックを作ります。

    TEMPLATES はテンプレートのファイルか、同梱のテンプレートの名前（--list で一覧）です。
    テンプレート1つで1モデルのブック、複数ならモデルごとのシート一式と比較シート（表-2）を
    作ります。kind: survey のテンプレート（アンケート集計）は1つずつ指定します。
    資料の不整合や公表値との不一致は警告として表示し、チェックシートにも載せます。

    \b
    Example:
        xlsgen simulate --list
        xlsgen simulate mitaka_model_a -o outputs/model_a.xlsx
        xlsgen simulate mitaka_model_a mitaka_model_b -o outputs/mitaka.xlsx
        xlsgen simulate setagaya_forum_survey -o outputs/survey.xlsx
        xlsgen simulate my_model.yaml -o outputs/my_model.xlsx
    """
    from xlsgen import app

    if list_:
        for t in app.bundled_templates():
            click.echo(f"{t['id']}\t{t['kind']}\t{t['title']}")
        return
    if not templates:
        raise click.UsageError("テンプレート（ファイルか同梱の名前）を指定してください（一覧: xlsgen simulate --list）")
    if not output:
        raise click.UsageError("-o / --output（書き出す .xlsx）を指定してください")
    from xlsgen import app

    for line in app.simulate_templates(list(templates), output):
        click.echo(line, err=line.startswith("警告"))


@cli.command()
@click.argument("book", type=click.Path())
@click.option("--to", "to", required=True, help="繰り越し先の年度（R4 / 2022 / 令和4年度）。翌年度だけを指定できます。")
@click.option("-o", "--output", required=True, type=click.Path(), help="新しい年度版の出力先（.xlsx）")
@click.option("--extend-to", help="年度の列が足りない場合に列を加える年度（例: R8）。1シート1施策の様式では新しい目標年度、"
              "1行1指標・年度が列のKPIブロックの様式ではこの年度までの列を加えます")
@click.option("--force", is_flag=True,
              help="出力先に同じ名前のファイル（記入済みかもしれない年度版）があっても上書きします。")
@layout_option
@layout_file_option
@handles_errors
def rollforward(book, to, output, extend_to, force, layout, layout_file):
    """ブックを翌年度版へ繰り越し、同じ様式で書き出します（様式ファイルに rollforward: supported: true がある様式）。

    前年度の値はすべて残し、変更はセルごとに「変更履歴」シートに記録します。

    Example:

        xlsgen rollforward inputs/進行管理シート_R3.xlsx --to R4 -o outputs/進行管理シート_R4.xlsx
    """
    from xlsgen import app

    result = app.rollforward_file(book, to, output, extend_to, layout, layout_file, force)
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
@click.option("--force", is_flag=True,
              help="--rollforward-to の年度版が出力先に既にあっても作り直して上書きします（既定では残します）。")
@layout_option
@layout_file_option
@handles_errors
def run(in_dir, out_dir, jobs, no_protect, rollforward_to, force, layout, layout_file):
    """フォルダ内のブックをすべて読み取り・検証し、報告書を作ります（年次処理）。

    失敗したファイルは理由を表示して次へ進みます。1 つでも失敗すると終了コードは 1 です。

    Example:

        xlsgen run inputs -o outputs --jobs 2
    """
    from xlsgen import app

    _quiet_shutdown()

    def progress(stream, length):
        return click.progressbar(stream, length=length, label="処理中", file=sys.stderr)

    s = app.run_folder(in_dir, out_dir, jobs, {"protect": not no_protect, "rollforward_to": rollforward_to,
                                               "layout": layout, "layout_file": layout_file, "force": force},
                       progress)
    for r in s["failed"]:
        click.echo(f"失敗: {r['reason']}", err=True)
    for r in s["results"]:
        for f in r["findings"]:
            if f.get("code") == "edition-exists":
                click.echo(f"警告: {r['name']}: {f['message']}", err=True)
        for note in r.get("notes") or []:
            click.echo(f"注意: {r['name']}: {note}", err=True)
    for k in s["skipped"]:
        click.echo(f"対象外: {k['name']}（{k['reason']}）", err=True)
    click.echo(f"ファイル {s['files']}（失敗 {len(s['failed'])}）、シート {s['sheets']}、"
               f"指標 {s['kpis']}、エラー {s['errors']}、警告 {s['warnings']}、"
               f"{s['seconds']:.1f} 秒、対象外 {len(s['skipped'])}。検証結果: {s['summary']}")
    if s["failed"]:
        sys.exit(1)


_QUIET = []


def _quiet_shutdown() -> None:
    """Once the process is shutting down, Ctrl-C and SIGTERM change nothing: they are
    ignored from the exit handlers on (Python restores the default action for its own
    handlers while it finalizes, so a signal then would end a finished run by the signal)."""
    import atexit
    import signal

    if not _QUIET:
        _QUIET.append(True)
        atexit.register(lambda: [signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)])


@cli.command()
@click.argument("book", type=click.Path())
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(),
              help="照会様式（と繰り越したマスター）を書き出すフォルダ")
@click.option("--to", "to", help="照会する年度版（例: R4）。ブックの翌年度版なら先に繰り越し、それを回収先のマスターにします。")
@click.option("--extend-to", help="繰り越しで計画の目標年度を過ぎる場合の新しい目標年度（rollforward と同じ）")
@click.option("--due", help="表紙に書く提出期限（例: 2022年5月31日）")
@click.option("--contact", help="表紙に書く照会元（例: 企画政策課 内線123）")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="結果の表示形式")
@layout_option
@layout_file_option
@handles_errors
def distribute(book, out_dir, to, extend_to, due, contact, fmt, layout, layout_file):
    """担当課ごとの照会様式（入力用の .xlsx）を作ります。

    課ごとに、その課が答える施策・指標の入力欄（今年度の実績値、事業費、評価の文章）と、
    参考の前年度の値・目標を1つのブックにまとめ、<課>_<ブック>_<年度版>.xlsx として
    書き出します。入力欄だけが黄色で入力でき、ほかはパスワードなしで保護されます。
    どの課が何を答えるかは様式ファイル（担当課、指標の区分、【…課】ごとの文章、
    departments: aliases）から決まります。課の情報がない様式は施策ごとに1ファイルです。

    --to がブックの翌年度版なら、先に繰り越した版をフォルダに書き出し、それを回収先の
    マスターにします。指定しないか同じ年度版なら、BOOK 自体が回収先のマスターです。

    \b
    Example:
        xlsgen distribute 進行管理シート_R3.xlsx --to R4 -o 照会 --due 2022年5月31日
        xlsgen collect 照会/進行管理シート_R4.xlsx 回答/ -o 進行管理シート_R4_回収.xlsx
    """
    from xlsgen import app

    result = app.distribute_book(book, out_dir, to, extend_to, due, contact, layout, layout_file)
    if fmt == "json":
        dump_json(result.to_dict(), None)
        return
    for line in app.distribute_lines(result):
        click.echo(line, err=line.startswith("注意"))


@cli.command()
@click.argument("master", type=click.Path())
@click.argument("forms", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(),
              help="回答を反映したマスターの出力先（.xlsx）。マスター自体は変更しません。")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="回収状況の表示形式")
@click.option("--status", "status_out", type=click.Path(),
              help="回収状況と指摘を JSON で書き出すファイル")
@layout_option
@layout_file_option
@handles_errors
def collect(master, forms, output, fmt, status_out, layout, layout_file):
    """返ってきた照会様式（ファイルまたはフォルダ）を検査し、マスターに反映します。

    様式ごとに、配布したマスター・年度版のものか、値の型・単位・範囲・文字数、必須の
    入力、入力欄以外の書き換え（報告のみで取り込みません）を確かめます。同じ課の様式が
    複数あれば後から保存したものを採り、2つの課の回答が同じセルで食い違えば両方を
    挙げてどちらも反映しません。反映は繰り越しと同じ方法でブックの部品を直接書き換え、
    回答したセルのほかは変えません。出力には「回収状況」「回収の指摘」「変更履歴」の
    シートが付きます。配布後にマスターの該当セルが変わっていれば何も書き出しません。

    \b
    Example:
        xlsgen collect 照会/進行管理シート_R4.xlsx 回答/ -o 進行管理シート_R4_回収.xlsx
        xlsgen collect master.xlsx 企画課_進行管理シート_R4.xlsx -o new.xlsx --format json
    """
    from xlsgen import app

    result = app.collect_forms(master, forms, output, layout, layout_file)
    if status_out:
        dump_json(result.to_dict(), status_out, [master, *forms])
    if fmt == "json":
        dump_json(result.to_dict(), None)
        return
    for line in app.collect_lines(result):
        click.echo(line)


@cli.command()
@click.argument("old", type=click.Path())
@click.argument("new", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="出力形式")
@click.option("-o", "--output", type=click.Path(),
              help="変更点を書き出すファイル（.xlsx なら両方のブックのセルへのリンク付き、.json、それ以外はテキスト）")
@layout_option
@layout_file_option
@handles_errors
def diff(old, new, fmt, output, layout, layout_file):
    """2つのブック（年度版どうし、またはコピーどうし）の違いを、セル番地ではなく
    見出し（施策の番号・名前、指標名、年度）で比べて表示します。

    行の挿入やブロックの移動は変更になりません。実績値・文章・目標・年度の変更、
    指標の追加と削除、単位の変更を挙げ、目標と基準値の変更には監査の注意を付けます
    （目標の引き下げは【目標の引き下げ】）。

    \b
    Example:
        xlsgen diff 進行管理シート_R3.xlsx 進行管理シート_R4_回収.xlsx
        xlsgen diff 進行管理シート_R3.xlsx 進行管理シート_R4.xlsx -o 変更点.xlsx
    """
    from xlsgen import app

    result = app.diff_files(old, new, layout, layout_file)
    if output and str(output).lower().endswith((".xlsx", ".xlsm")):
        app.diff_workbook(result, output)
        click.echo(f"{output}: 変更 {len(result.changes)} 件")
        return
    if fmt == "json" or (output and str(output).lower().endswith(".json")):
        dump_json(result.to_dict(), output, [old, new])
        return
    text = app.diff_lines(result)
    if output:
        from xlsgen.atomic import atomic_path

        with atomic_path(output, [old, new]) as tmp:
            tmp.write_text("\n".join(text) + "\n", encoding="utf-8")
        click.echo(f"{output}: 変更 {len(result.changes)} 件")
        return
    for line in text:
        click.echo(line)


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0,
              help="待ち受けるポート番号（省略または 0 で空いている番号）。番号を決めるとアドレスが"
                   "毎回同じになり、ブックマークが使えます（デスクトップのアイコンは 8765）。")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="待ち受けるアドレス。127.0.0.1 以外（例: 0.0.0.0）にすると共有モードになり、"
                   "ネットワーク上の他の PC から、登録した課だけがサインインして使えます。")
@click.option("--no-browser", is_flag=True, help="ブラウザを自動で開きません。")
@click.option("--install-shortcut", is_flag=True,
              help="デスクトップ（とアプリの一覧・スタートメニュー）に「xlsgen」アイコンを作って終了します。"
                   "アイコンから起動すると、端末なしでこの画面が開きます。")
@click.option("--add-user", metavar="課名",
              help="共有モードでサインインできる課を登録します（パスワードを2回たずねます。"
                   "保存するのはハッシュだけです）。登録済みの課ならパスワードを変えます。")
@click.option("--remove-user", metavar="課名", help="共有モードの課の登録を消します。")
@click.option("--list-users", is_flag=True, help="共有モードで登録済みの課を表示します。")
@click.option("--new-token", is_flag=True,
              help="アクセス用の鍵（token）を作り直します。これまでのブックマークは使えなくなります。")
@click.option("--allow-host", multiple=True, metavar="NAME",
              help="共有モードで、このサーバーを開くときに使う名前（DNS 名）を追加で許可します。")
@click.option("--from-shortcut", is_flag=True, hidden=True)
@handles_errors
def serve(port, host, no_browser, install_shortcut, add_user, remove_user, list_users,
          new_token, allow_host, from_shortcut):
    """ブラウザで使う画面を起動します（インターネット不要）。

    起動するとブラウザが開き、ブックをドロップすると、指摘事項・報告書・翌年度版・
    検証結果.xlsx・監査をその画面で受け取れます。終了は画面下の「xlsgen を終了」です。
    端末を使わない人のためには --install-shortcut でデスクトップにアイコンを作ります。

    Example:

    \b
        xlsgen serve --install-shortcut
        xlsgen serve --add-user 企画政策課
        xlsgen serve --host 0.0.0.0 --port 8765
    """
    from xlsgen.web import config

    if install_shortcut:
        from xlsgen.web.launchers import DEFAULT_PORT
        from xlsgen.web.launchers import install_shortcut as install

        for path in install(port or DEFAULT_PORT):
            click.echo(f"作成しました: {path}")
        return
    if add_user:
        name = config.check_user_name(add_user)
        password = click.prompt(f"{name} のパスワード（{config.MIN_PASSWORD} 文字以上）",
                                hide_input=True, confirmation_prompt="もう一度入力してください")
        click.echo(f"登録しました: {config.add_user(name, password)}（{config.config_dir() / config.USERS_FILE}）")
        return
    if remove_user:
        if not config.remove_user(remove_user):
            raise XlsgenError(f"課「{remove_user}」は登録されていません")
        click.echo(f"登録を消しました: {remove_user}")
        return
    if list_users:
        for name in sorted(config.users()):
            click.echo(name)
        return
    from xlsgen.web.server import serve as run_server

    run_server(host, port, open_browser=not no_browser, new_token=new_token,
               from_shortcut=from_shortcut, allow_hosts=tuple(allow_host))


@cli.group()
def layout():
    """様式ファイル（xlsgen/templates/layouts/*.yaml）を確かめます。書き方は docs/layouts.md。

    Example:

        xlsgen layout check kpi_list 総合戦略KPI一覧.xlsx
    """


@layout.command("check")
@click.argument("spec", type=click.Path())
@click.argument("book", type=click.Path())
@handles_errors
def layout_check(spec, book):
    """様式ファイル SPEC でブック BOOK を読み、シートごとに見出し・項目がどのセルから読めたか、
    何が見つからないかを表示します。当てはまらなければ終了コード 1 です。
    SPEC は様式ファイル（YAML）か、同梱の様式の名前（kpi_list など）です。

    Example:

        xlsgen layout check kpi_list KPI一覧.xlsx

        xlsgen layout check my_city.yaml 進行管理シート.xlsx
    """
    from xlsgen import app

    ok, lines = app.check_layout(spec, book)
    for line in lines:
        click.echo(line)
    sys.exit(0 if ok else 1)
