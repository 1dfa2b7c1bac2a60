"""What one upload on the `xlsgen serve` page costs, against `xlsgen build` alone.

    python benchmarks/web.py

For each city workbook in inputs/: the report alone (`app.build_file`), everything the page
makes for one file (`app.process_book`: report, findings, next year's edition, audit), and
the same through HTTP (Flask's test client: upload, then polling the job's JSON until the
book is done — it is processed in a child process — then the 報告書 download).
Seconds are the best of three runs, measured in this one run; ratios are to the report alone.
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from xlsgen import app
from xlsgen.web import create_app

INPUTS = Path(__file__).resolve().parent.parent / "inputs"


def best(func, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    web = create_app(token="bench")
    client = web.test_client()
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"  # as the page's own requests
    client.get("/?token=bench")
    print(f"{'workbook':34} {'build s':>8} {'page s':>8} {'ratio':>6} {'HTTP s':>8} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for path in sorted(INPUTS.glob("*.xlsx")):
            data = path.read_bytes()
            build = best(lambda path=path: app.build_file(path, tmp / "r.xlsx"))
            page = best(lambda path=path: app.process_book(path, tmp, path.name))

            def http(path=path, data=data):
                job = client.post("/api/jobs").get_json()["job"]
                client.post(f"/api/jobs/{job}/books", data={"file": (io.BytesIO(data), path.name)})
                while True:
                    f = client.get(f"/api/jobs/{job}").get_json()["files"][0]
                    if f["state"] in ("done", "failed"):
                        break
                    time.sleep(0.01)
                url = next(d["url"] for d in f["result"]["downloads"] if d["kind"] == "report")
                assert client.get(url).status_code == 200

            over_http = best(http)
            print(f"{path.name:34} {build:8.2f} {page:8.2f} {page / build:6.2f} "
                  f"{over_http:8.2f} {over_http / build:6.2f}")
    web.extensions["xlsgen_store"].stop()


if __name__ == "__main__":
    main()
