"""`peluit serve gateway` for real: the HTTP server in its own process on a loopback port,
spoken to over HTTP. Sign in, download the inbox bundle as a stream, upload a reply bundle as a
browser would (multipart, CSRF field first)."""

import io
import re
import secrets
import socket
import subprocess
import sys
import time

import pytest

from crypto.bundle import BundleReader
from dropbox_app.gateway import totp
from tests.fixtures.gateway import (
    HttpClient,
    add_submission,
    create_account,
    make_deployment,
    reply_bundle,
    server_trust,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    dep = make_deployment(tmp_path, app=False, gateway_listen=f"127.0.0.1:{port}")
    proc = subprocess.Popen([sys.executable, "-m", "peluit", "serve", "gateway", "--config",
                             str(dep.data_dir / "peluit.toml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"listening on http://127.0.0.1:{port}/" in line, proc.stderr.read()
        yield dep, port
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
        dep.engine.dispose()


def test_served_gateway_over_http(served):
    dep, port = served
    acct = create_account(dep, "ani")
    sub = add_submission(dep, secrets.token_bytes(200_000))
    b = HttpClient(port)
    resp, page = b.request("GET", "/login")
    assert resp.status == 200 and resp.getheader("Server") is None
    assert "default-src 'none'" in resp.getheader("Content-Security-Policy")
    resp, _ = b.post_form("/login", {"csrf_token": b.token("/login"), "username": "ani",
                                     "passphrase": acct.passphrase,
                                     "code": totp.code_at(acct.totp_secret, time.time())})
    assert resp.status == 303 and "peluit_gw" in b.cookies

    resp, bundle = b.post_form("/inbox", {"csrf_token": b.token()})
    assert resp.status == 200 and int(resp.getheader("Content-Length")) == len(bundle)
    reader = BundleReader(io.BytesIO(bundle), server_trust(dep), "inbox", lambda s: None,
                          dep.cfg.deployment_id)
    assert [e["id"] for e in reader.manifest.body["submissions"]] == [sub.submission_id]

    data = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "Siapa saksinya?")],
                        acks=[sub.submission_id])
    boundary = "----peluit" + secrets.token_hex(8)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{b.token()}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"bundle\"; "
            f"filename=\"r.bundle\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    resp, page = b.request("POST", "/replies", body,
                           {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert resp.status == 200 and b'id="accepted"' in page, page[:2000]
    _, home = b.request("GET", "/")
    assert re.search(rb'id="pending-count">0<', home)
