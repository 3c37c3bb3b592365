#!/usr/bin/env python3
"""Run netpulse's modern-dialect DDL, data and SQL cookbook on an embedded modern ClickHouse (chdb).

Reads one JSON document on stdin:
  {"statements": [sql...],                        # DDL, run in order
   "loads": [{"table", "columns", "structure", "file", "format"}],  # files to insert: RowBinary
                                                   # (the default; needs structure) or Native
                                                   # (its types come from the block itself)
   "queries": [{"title", "sql"}]}                  # each must run; rows are counted
Prints {"version", "loads": [{"table", "format", "seconds"}], "results": [{"title", "rows", "data",
"error"}]} on stdout (data: JSONCompact rows; seconds: the INSERT's wall time, for the sink bench).
Needs `pip install chdb`.
"""
import json
import sys
import tempfile
import time

try:
    from chdb import session as chs
except ImportError:
    print(json.dumps({"error": "chdb is not installed (pip install chdb)"}))
    sys.exit(3)


def main() -> int:
    spec = json.load(sys.stdin)
    with tempfile.TemporaryDirectory(prefix="netpulse-chdb-") as path:
        sess = chs.Session(path)
        version = str(sess.query("SELECT version()", "TSV")).strip()
        out = {"version": version, "loads": [], "results": [], "setup_error": None}
        try:
            for sql in spec["statements"]:
                sess.query(sql)
            for load in spec["loads"]:
                fmt = load.get("format", "RowBinary")
                source = f"'{load['file']}', 'Native'" if fmt == "Native" else (
                    f"'{load['file']}', '{fmt}', '{load['structure']}'")
                started = time.perf_counter()
                sess.query(f"INSERT INTO {load['table']} ({load['columns']}) SELECT * FROM file({source})")
                out["loads"].append({"table": load["table"], "format": fmt, "seconds": time.perf_counter() - started})
        except Exception as e:  # noqa: BLE001 - reported to the test, which fails on it
            out["setup_error"] = str(e).strip().splitlines()[0]
        for q in spec["queries"]:
            try:
                res = sess.query(q["sql"], "JSONCompact")
                data = json.loads(str(res)) if str(res).strip() else {"data": []}
                out["results"].append({"title": q["title"], "rows": len(data.get("data", [])), "data": data.get("data", []), "error": None})
            except Exception as e:  # noqa: BLE001
                out["results"].append({"title": q["title"], "rows": 0, "error": str(e).strip().splitlines()[0]})
        sess.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
