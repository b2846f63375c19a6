"""A test HTTPS server for MTA-STS policies and TLS-RPT uploads, on a
loopback address, port 443, with a certificate from the test CA for every
name it serves.

    web = PolicyServer("127.0.0.80", ca, ["mta-sts.sts.example", "reports.example"]).start()
    web.policy("sts.example", "version: STSv1\\nmode: enforce\\nmx: mx.sts.example\\nmax_age: 86400\\n")
    web.answer("mta-sts.broken.example", 500, "text/plain", b"oops")   # any other answer
    web.requests     # [(host, method, path)] of every request
    web.posts        # [(host, path, content_type, body bytes)] of every POST
    web.stop()
"""
import http.server
import ssl
import threading


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):    # quiet
        pass

    def _host(self):
        return (self.headers.get("Host") or "").split(":")[0].lower()

    def do_GET(self):
        srv = self.server.owner
        host = self._host()
        srv.requests.append((host, "GET", self.path))
        status, ctype, body = srv.answers.get((host, self.path), (404, "text/plain", b"no such"))
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in srv.extra_headers.get((host, self.path), []):
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        srv = self.server.owner
        host = self._host()
        srv.requests.append((host, "POST", self.path))
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 10 * 1024 * 1024))
        with srv.cond:
            srv.posts.append((host, self.path, self.headers.get("Content-Type"), body))
            srv.cond.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


class PolicyServer:
    def __init__(self, addr, ca, names, port=443):
        self.addr = addr
        self.port = port
        self.cert, self.key = ca.leaf(names[0], names=list(names))
        self.answers = {}
        self.extra_headers = {}
        self.requests = []
        self.posts = []
        self.cond = threading.Condition()
        self.httpd = None
        self.thread = None

    def policy(self, domain, text, ctype="text/plain"):
        self.answer("mta-sts." + domain, 200, ctype,
                    text.encode() if isinstance(text, str) else text)

    def answer(self, host, status, ctype, body, path="/.well-known/mta-sts.txt", headers=()):
        self.answers[(host.lower(), path)] = (status, ctype, body)
        self.extra_headers[(host.lower(), path)] = list(headers)

    def fetches(self, domain):
        return [r for r in self.requests if r[0] == "mta-sts." + domain]

    def start(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        httpd = http.server.ThreadingHTTPServer((self.addr, self.port), _Handler)
        httpd.daemon_threads = True
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        httpd.owner = self
        self.httpd = httpd
        self.thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()
        return self

    def wait_posts(self, n, timeout=10.0):
        import time
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.posts) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.posts)

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
