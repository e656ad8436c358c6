"""The fake sites for a browser that Playwright does not route (Firefox driven by
Marionette): a local HTTPS proxy. The browser's `CONNECT chatgpt.com:443` reaches
this process, which answers the TLS handshake with a certificate for that host,
signed by its own CA (`ca_pem`, trusted in the test profile with certutil), and
serves each request through the same `route(glob, handler)` a Playwright context
offers, so `chatgpt.serve(proxy)` works unchanged. Hosts nobody routed are refused.

(mitmproxy would do this too, but its pins of cryptography, h11 and others cannot be
met beside this project's; `cryptography` is a dependency already.)
"""

from __future__ import annotations

import datetime
import http.server
import socketserver
import ssl
import threading
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key, issuer: str, issuer_key, *, ca: bool, host: str | None = None) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
            decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate, key=None) -> bytes:
    out = cert.public_bytes(serialization.Encoding.PEM)
    if key is not None:
        out += key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    return out


class ProxyRoute:
    """What a route handler is given: Playwright's Route, as far as SiteServer uses it."""

    def __init__(self, url: str, method: str, dest: str | None):
        self.request = SimpleNamespace(url=url, method=method, resource_type="document" if dest in ("document", "iframe") else "other")
        self.answer = (404, "text/plain", b"")

    def fulfill(self, status: int = 200, content_type: str = "text/plain", body: str | bytes = b"") -> None:
        self.answer = (status, content_type, body.encode() if isinstance(body, str) else body)


class _Site(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 inside the TLS tunnel of one host."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet: the test reports what matters
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        url = f"https://{self.server_host}{self.path}"
        route = ProxyRoute(url, self.command, self.headers.get("Sec-Fetch-Dest"))
        handler = self.proxy.handler_for(url)
        if handler:
            handler(route)
        status, content_type, body = route.answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_HEAD = _serve


class TlsProxy:
    """Start with `start()`; `port` is the proxy's, `ca_pem` the CA to trust."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_cert = _cert("DraftVault test CA", self.ca_key, "DraftVault test CA", self.ca_key, ca=True)
        self.ca_pem = workdir / "proxy-ca.pem"
        self.ca_pem.write_bytes(_pem(self.ca_cert))
        self.routes: list[tuple[str, object]] = []
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()
        proxy = self

        class Tunnel(socketserver.StreamRequestHandler):
            def handle(self):
                proxy._tunnel(self)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Tunnel)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def route(self, glob: str, handler) -> None:
        self.routes.append((glob.removesuffix("**"), handler))

    def handler_for(self, url: str):
        return next((h for prefix, h in self.routes if url.startswith(prefix)), None)

    def start(self) -> "TlsProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _context(self, host: str) -> ssl.SSLContext:
        with self._lock:
            if host not in self._contexts:
                key = ec.generate_private_key(ec.SECP256R1())
                path = self.workdir / f"proxy-{host}.pem"
                path.write_bytes(_pem(_cert(host, key, "DraftVault test CA", self.ca_key, ca=False, host=host), key))
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(path)
                context.set_alpn_protocols(["http/1.1"])
                self._contexts[host] = context
            return self._contexts[host]

    def _tunnel(self, conn: socketserver.StreamRequestHandler) -> None:
        request = conn.rfile.readline().decode("latin-1").split()
        while conn.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # the CONNECT's headers
        if len(request) < 2 or request[0] != "CONNECT":
            conn.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host = urlsplit(f"//{request[1]}").hostname
        if not any(prefix.startswith(f"https://{host}/") for prefix, _ in self.routes):
            conn.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        conn.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        conn.wfile.flush()
        try:
            tls = self._context(host).wrap_socket(conn.connection, server_side=True)
        except (ssl.SSLError, OSError):
            return
        site = type("Site", (_Site,), {"proxy": self, "server_host": host})
        try:
            site(tls, conn.client_address, self.server)
        except (ssl.SSLError, ConnectionError):
            pass
