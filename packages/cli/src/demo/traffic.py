# One demo "pod" (run inside its network namespace by `netpulse start`): HTTP servers on the
# given ports and client loops, from one JSON argument:
#   {"serve": [8080, ...], "jobs": [{"url": "http://10.201.77.12:8080/2048", "post": 0, "every_ms": 200}, ...]}
# A GET of /N answers N bytes; a job with "post": N uploads N bytes. Each request is its own
# connection (Connection: close), so each one is a flow. Failures (timeouts, resets) are counted,
# never fatal: the demo breaks links on purpose.
import http.client, http.server, json, socketserver, sys, threading, time
from urllib.parse import urlsplit

CHUNK = b"x" * 65536


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        try:
            n = int(self.path.strip("/") or "0")
        except ValueError:
            n = 0
        self.send_response(200)
        self.send_header("Content-Length", str(n))
        self.end_headers()
        while n > 0:
            self.wfile.write(CHUNK[: min(n, len(CHUNK))])
            n -= min(n, len(CHUNK))

    def do_POST(self):
        left = int(self.headers.get("Content-Length", "0"))
        while left > 0:
            got = self.rfile.read(min(left, len(CHUNK)))
            if not got:
                break
            left -= len(got)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def serve(port):
    Server(("0.0.0.0", port), Handler).serve_forever()


def job(spec):
    u = urlsplit(spec["url"])
    body = CHUNK * (spec.get("post", 0) // len(CHUNK)) + CHUNK[: spec.get("post", 0) % len(CHUNK)]
    while True:
        started = time.monotonic()
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=15)
            if body:
                c.request("POST", u.path, body=body, headers={"Connection": "close"})
            else:
                c.request("GET", u.path, headers={"Connection": "close"})
            c.getresponse().read()
            c.close()
        except OSError:
            pass
        time.sleep(max(0.0, spec["every_ms"] / 1000 - (time.monotonic() - started)))


if __name__ == "__main__":
    cfg = json.loads(sys.argv[1])
    for p in cfg.get("serve", []):
        threading.Thread(target=serve, args=(p,), daemon=True).start()
    time.sleep(0.5)
    print("ready", flush=True)
    for j in cfg.get("jobs", []):
        threading.Thread(target=job, args=(j,), daemon=True).start()
    threading.Event().wait()
