"""The WeChat API sandbox with WeChat Pay, as its own process, for bench/fault_drills.py.

`python -m bot sandbox` serves the API only; `serve --demo` runs the paying sandbox inside the
web process, where a kill -9 of the web process would take WeChat Pay down with it. This runs
the same sandbox app (devtools.sandbox, PAY from devtools.demo.pay_pair) in a process of its
own, with the demo keys made under --keys and a short notification retry schedule:

    .venv/bin/python bench/drill_sandbox.py --port 18081 --keys DIR [--retry 1,1,1,2,2,3]

The account is WECHAT_APP_ID / WECHAT_APP_SECRET from the environment (else the demo's).
SIGTERM or SIGKILL stops it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from werkzeug.serving import make_server  # noqa: E402

from devtools.demo import DEMO_ACCOUNT, pay_keys, pay_pair  # noqa: E402
from devtools.sandbox import create_sandbox_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", required=True, help="data dir for pay_keys (wxpay-demo/)")
    parser.add_argument("--retry", default="1,1,1,2,2,3,3,5,5",
                        help="seconds before each notification delivery, comma-separated")
    args = parser.parse_args()
    retry = tuple(float(part) for part in args.retry.split(","))
    sandbox_pay, _shop = pay_pair(pay_keys(args.keys), "", retry_seconds=retry)
    app = create_sandbox_app({
        "APP_ID": os.environ.get("WECHAT_APP_ID") or DEMO_ACCOUNT["WECHAT_APP_ID"],
        "APP_SECRET": os.environ.get("WECHAT_APP_SECRET") or DEMO_ACCOUNT["WECHAT_APP_SECRET"],
        "PAY": sandbox_pay,
    })
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"WeChat sandbox with WeChat Pay at http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
