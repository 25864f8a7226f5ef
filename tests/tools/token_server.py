#!/usr/bin/env python3
"""A token server for distribution's token auth, for tests: GET /token with
the test user's Basic credentials gets a JWT granting the scope asked for,
signed with KEY (the registry trusts its certificate, KEY's .crt beside it).
Without credentials it grants nothing (an empty access list); wrong ones get
401.

Usage: token_server.py LISTEN_ADDR KEY_PEM USER PASSWORD
"""
import base64
import http.server
import json
import sys
import time
import urllib.parse
import uuid

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization

listen, key_path, user, password = sys.argv[1:5]
key = open(key_path, "rb").read()
cert = x509.load_pem_x509_certificate(open(key_path[: -len(".key")] + ".crt", "rb").read())
x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.command, self.path))
        sys.stdout.flush()

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/health":
            return self.reply(200, {})
        q = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        granted = False
        if auth.startswith("Basic "):
            u, _, p = base64.b64decode(auth[6:]).decode().partition(":")
            if (u, p) != (user, password):
                return self.reply(401, {"details": "incorrect username or password"})
            granted = True
        access = []
        for scope in q.get("scope", []):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if granted:
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        claims = {"iss": "berth-test-issuer", "sub": user if granted else "",
                  "aud": q.get("service", [""])[0], "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": str(uuid.uuid4()), "access": access}
        token = jwt.encode(claims, key, algorithm="RS256", headers={"x5c": [x5c]})
        self.reply(200, {"token": token, "access_token": token, "expires_in": 300})


host, port = listen.rsplit(":", 1)
http.server.ThreadingHTTPServer((host, int(port)), Handler).serve_forever()
