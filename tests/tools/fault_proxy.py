#!/usr/bin/env python3
"""An HTTP proxy in front of a test registry that injects one fault into
layer downloads (GET /v2/.../blobs/sha256:... of more than 4 kB, so not
image configs):

  500once   the first blob GET answers 500, later ones pass
  cutonce   the first blob GET sends half its body, then drops the connection
  stall     every blob GET sends half its body, prints "stalled" and waits
            until the registry is gone, then drops the connection
  pass      no fault

Usage: fault_proxy.py LISTEN_ADDR REGISTRY_ADDR MODE
"""
import http.client
import http.server
import sys
import threading
import time

listen, upstream, mode = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()
faults_left = 1


def take_fault():
    global faults_left
    with lock:
        if mode == "stall":
            return True
        if faults_left > 0:
            faults_left -= 1
            return True
        return False


def upstream_alive():
    try:
        c = http.client.HTTPConnection(upstream, timeout=1)
        c.request("GET", "/v2/")
        c.getresponse().read()
        return True
    except OSError:
        return False


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.command, self.path))
        sys.stdout.flush()

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        blob = self.command == "GET" and "/blobs/sha256:" in self.path
        try:
            conn = http.client.HTTPConnection(upstream, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            msg = ("upstream: %s" % e).encode()
            self.send_response(502)
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        fault = blob and len(data) > 4096 and mode != "pass" and take_fault()
        if fault and mode == "500once":
            msg = b'{"errors":[{"code":"UNKNOWN","message":"injected failure"}]}'
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection"):
                self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        if fault and mode in ("cutonce", "stall") and resp.status in (200, 206) and len(data) > 1:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            if mode == "stall":
                print("stalled", flush=True)
                while upstream_alive():
                    time.sleep(0.1)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = forward


host, port = listen.rsplit(":", 1)
http.server.ThreadingHTTPServer((host, int(port)), Proxy).serve_forever()
