"""Raw SMTP dialogue helpers for the hikyaku integration tests.

SMTPRaw speaks SMTP byte for byte so that tests control exactly what goes on
the wire (pipelining, smuggling, NUL bytes, over-long lines). Replies are read
strictly: lines must end in CRLF, a multi-line reply ends at "NNN ".
"""
import base64
import re
import socket
import ssl
import time

QUEUED_RE = re.compile(r"queued as ([0-9A-Z]+)")


def unverified_context():
    """A client TLS context that accepts the relay's self-signed certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def free_port(host="127.0.0.1"):
    """A TCP port that was free a moment ago on host."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Reply:
    """One complete SMTP reply (possibly multi-line)."""

    def __init__(self, code, lines, raw):
        self.code = code
        self.lines = lines      # texts after "NNN-" / "NNN "
        self.raw = raw          # bytes as received

    @property
    def text(self):
        return "\n".join(self.lines)

    @property
    def last(self):
        return self.lines[-1] if self.lines else ""

    def __str__(self):
        return self.raw.decode("utf-8", "replace").rstrip("\r\n")

    def __repr__(self):
        return "Reply(%r)" % str(self)

    def queue_id(self):
        m = QUEUED_RE.search(self.text)
        return m.group(1) if m else None


class SMTPError(Exception):
    pass


class SMTPRaw:
    """A byte-level SMTP client. Every read is bounded by a timeout."""

    def __init__(self, host, port, *, source=None, timeout=10.0, implicit_tls=False):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.buf = b""
        self.tls = False
        self.sock = socket.create_connection(
            (host, port), timeout=timeout,
            source_address=(source, 0) if source else None)
        if implicit_tls:
            self._wrap()

    # -- transport ---------------------------------------------------------
    def _wrap(self):
        self.sock = unverified_context().wrap_socket(self.sock, server_hostname=None)
        self.tls = True

    @property
    def local_port(self):
        return self.sock.getsockname()[1]

    @property
    def tls_version(self):
        return self.sock.version() if self.tls else None

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def _recv(self, timeout):
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except ssl.SSLError as e:
            # An abrupt close under TLS; treat as EOF.
            if "EOF" in str(e) or "UNEXPECTED" in str(e).upper():
                return b""
            raise
        except ConnectionResetError:
            return b""
        return chunk

    def reply(self, timeout=None):
        """Read one complete reply. EOFError if the peer closes first,
        socket.timeout if it does not arrive within timeout."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        lines = []
        raw = b""
        code = None
        while True:
            i = self.buf.find(b"\r\n")
            if i < 0:
                if len(self.buf) > 100000:
                    raise SMTPError("reply line too long / no CRLF: %r" % self.buf[:200])
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout("no complete reply within %.1fs (partial %r)"
                                         % (timeout, raw + self.buf))
                chunk = self._recv(left)
                if not chunk:
                    raise EOFError("connection closed (partial %r)" % (raw + self.buf))
                self.buf += chunk
                continue
            line, self.buf = self.buf[:i], self.buf[i + 2:]
            raw += line + b"\r\n"
            if len(line) < 3 or not line[:3].isdigit():
                raise SMTPError("malformed reply line %r" % line)
            c = int(line[:3])
            if code is not None and c != code:
                raise SMTPError("code changed inside multi-line reply: %r" % raw)
            code = c
            if len(line) > 3 and line[3:4] not in (b"-", b" "):
                raise SMTPError("malformed reply line %r" % line)
            lines.append(line[4:].decode("utf-8", "replace"))
            if len(line) == 3 or line[3:4] == b" ":
                return Reply(code, lines, raw)

    def replies(self, n, timeout=None):
        return [self.reply(timeout) for _ in range(n)]

    def nothing_within(self, seconds):
        """True if no byte arrives (and the connection stays open) for seconds."""
        if self.buf:
            return False
        try:
            chunk = self._recv(seconds)
        except (socket.timeout, TimeoutError):
            return True
        if chunk:
            self.buf += chunk
        return False

    def closed_within(self, seconds):
        """True if the peer closes the connection within seconds (any bytes
        that arrive before the close are kept in the buffer)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                chunk = self._recv(left)
            except (socket.timeout, TimeoutError):
                return False
            except OSError:
                return True
            if not chunk:
                return True
            self.buf += chunk

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- commands ----------------------------------------------------------
    def cmd(self, line, timeout=None):
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.send(line + b"\r\n")
        return self.reply(timeout)

    def expect(self, line, code, timeout=None):
        r = self.cmd(line, timeout)
        if r.code != code:
            raise SMTPError("%r: expected %d, got %s" % (line, code, r))
        return r

    def greeting(self):
        return self.reply()

    def ehlo(self, name="client.test"):
        return self.cmd("EHLO " + name)

    def starttls(self):
        """STARTTLS and the handshake. Fails if the server sent anything after
        its 220 before the handshake (that would be a plaintext injection)."""
        r = self.cmd("STARTTLS")
        if r.code != 220:
            raise SMTPError("STARTTLS refused: %s" % r)
        if self.buf:
            raise SMTPError("bytes after 220 to STARTTLS: %r" % self.buf)
        self._wrap()
        return r

    def auth_plain(self, user, password, authzid=""):
        token = base64.b64encode(("%s\0%s\0%s" % (authzid, user, password)).encode()).decode()
        return self.cmd("AUTH PLAIN " + token)

    def auth_login(self, user, password):
        r = self.cmd("AUTH LOGIN")
        if r.code != 334:
            return r
        r = self.cmd(base64.b64encode(user.encode()).decode())
        if r.code != 334:
            return r
        return self.cmd(base64.b64encode(password.encode()).decode())

    def mail(self, addr, params=""):
        return self.cmd("MAIL FROM:<%s>%s" % (addr, (" " + params) if params else ""))

    def rcpt(self, addr):
        return self.cmd("RCPT TO:<%s>" % addr)

    def data(self, message, timeout=None):
        """DATA, then the message (dot-stuffed, CRLF lines) and the final dot.
        Returns the reply to the end of data, or the reply to DATA if not 354."""
        r = self.cmd("DATA")
        if r.code != 354:
            return r
        self.send(dot_stuff(message) + b".\r\n")
        return self.reply(timeout)

    def quit(self):
        try:
            return self.cmd("QUIT", timeout=3)
        except (EOFError, OSError, socket.timeout):
            return None

    # -- composites --------------------------------------------------------
    def setup_auth(self, user, password, ehlo_name="client.test"):
        """Greeting, EHLO, STARTTLS (unless implicit TLS), EHLO, AUTH PLAIN."""
        g = self.greeting()
        if g.code != 220:
            raise SMTPError("greeting: %s" % g)
        self.expect("EHLO " + ehlo_name, 250)
        if not self.tls:
            self.starttls()
            self.expect("EHLO " + ehlo_name, 250)
        r = self.auth_plain(user, password)
        if r.code != 235:
            raise SMTPError("AUTH failed: %s" % r)
        return self

    def send_mail(self, sender, rcpts, message):
        """One transaction; returns (reply to MAIL, replies to RCPTs, reply to
        end of data or None if not reached)."""
        if isinstance(rcpts, str):
            rcpts = [rcpts]
        m = self.mail(sender)
        rr = []
        if m.code != 250:
            return m, rr, None
        for rc in rcpts:
            rr.append(self.rcpt(rc))
        if not any(r.code == 250 for r in rr):
            return m, rr, None
        return m, rr, self.data(message)


def dot_stuff(message):
    """message (bytes or str) with CRLF lines -> dot-stuffed bytes ending in CRLF."""
    if isinstance(message, str):
        message = message.encode("utf-8")
    if message and not message.endswith(b"\r\n"):
        message += b"\r\n"
    out = []
    for line in message.split(b"\r\n")[:-1]:
        if line.startswith(b"."):
            line = b"." + line
        out.append(line + b"\r\n")
    return b"".join(out)


def make_message(frm="alice@example.jp", to="rcpt@example.com", subject="test",
                 body="hello\r\n", headers=None, date=True, msgid=True, from_header=True):
    """An RFC 5322 message with CRLF lines, as bytes. frm is the raw From:
    field value. headers: extra list of "Name: value" strings (raw)."""
    h = []
    if from_header:
        h.append("From: " + frm)
    h.append("To: " + to)
    h.append("Subject: " + subject)
    if date:
        h.append("Date: Thu, 27 Nov 2025 12:00:00 +0900")
    if msgid:
        h.append("Message-ID: <%d.%s@client.test>" % (time.time_ns(), subject.replace(" ", "-")))
    h.extend(headers or [])
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    if body and not body.endswith("\r\n"):
        body += "\r\n"
    return ("\r\n".join(h) + "\r\n\r\n" + body).encode("utf-8")


def wait_for(predicate, timeout, interval=0.05, what="condition"):
    """Poll predicate until truthy or timeout; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)
