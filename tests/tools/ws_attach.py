#!/usr/bin/env python3
"""ws_attach.py SOCKET PATH [ACTION...]: a minimal RFC 6455 client (masked
frames, as a browser sends them) for GET .../attach/ws on a UNIX socket.

It checks the handshake (101 and Sec-WebSocket-Accept), runs the actions in
order, then reads until the server's close or EOF. Actions (TEXT takes
backslash escapes):
  send:TEXT    one binary frame          frag:TEXT  the text in 3 fragments
  ping:DATA    a ping, then waits for its pong
  expect:TEXT  reads until the output so far contains TEXT
  close:CODE   a close frame             raw:HEX    bytes as they are
  hold:        (last) after the server's close, neither answer nor go:
               waits for the server to end the connection itself
Prints "status: <status line>" (and the body, when not 101), "pong: DATA",
"output: <all data payloads>", "opcodes: <data opcodes seen>",
"close: <code>" (or "close: none" on EOF without a close frame)."""
import base64
import codecs
import hashlib
import os
import socket
import struct
import sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
NAMES = {1: "text", 2: "binary"}


def frame(opcode, payload, fin=True):
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Conn:
    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.output = b""
        self.opcodes = []
        self.pongs = []
        self.close = None
        self.hold = False

    def fill(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_frame(self):
        b0, b1 = self.take(2)
        if b1 & 0x80:
            sys.exit("a masked frame from the server")
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self.take(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self.take(8))[0]
        payload = self.take(n)
        op = b0 & 0x0F
        if op in NAMES or op == 0:
            self.output += payload
            if op and NAMES[op] not in self.opcodes:
                self.opcodes.append(NAMES[op])
        elif op == 0xA:
            self.pongs.append(payload)
        elif op == 0x8:
            self.close = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else 0
            raise EOFError

    def until(self, cond):
        while not cond():
            self.read_frame()


def handshake(sock, path):
    key = base64.b64encode(os.urandom(16))
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: berth\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                 b"Sec-WebSocket-Version: 13\r\n\r\n" % (path.encode(), key))
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    head, _, rest = head.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    print("status: " + lines[0])
    if " 101 " not in lines[0]:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            rest += chunk
        print(rest.decode().strip())
        sys.exit(0)
    want = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
    headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    if headers.get("sec-websocket-accept") != want or headers.get("upgrade", "").lower() != "websocket":
        sys.exit("bad handshake: %r" % headers)
    return rest


def run(conn, action):
    kind, _, arg = action.partition(":")
    text = codecs.decode(arg, "unicode_escape").encode("latin-1")
    if kind == "send":
        conn.s.sendall(frame(2, text))
    elif kind == "frag":
        a, b = len(text) // 3, 2 * len(text) // 3
        conn.s.sendall(frame(1, text[:a], False) + frame(0, text[a:b], False) +
                       frame(0, text[b:]))
    elif kind == "ping":
        conn.s.sendall(frame(9, text))
        conn.until(lambda: conn.pongs)
        print("pong: " + conn.pongs.pop(0).decode())
    elif kind == "expect":
        conn.until(lambda: text in conn.output)
    elif kind == "close":
        conn.s.sendall(frame(8, struct.pack(">H", int(arg))))
    elif kind == "raw":
        conn.s.sendall(bytes.fromhex(arg))
    elif kind == "hold":
        conn.hold = True
    else:
        sys.exit("unknown action " + action)


def main():
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(sys.argv[1])
    sock.settimeout(30)
    conn = Conn(sock)
    conn.buf = handshake(sock, sys.argv[2])
    try:
        for action in sys.argv[3:]:
            run(conn, action)
        conn.until(lambda: False)
    except EOFError:
        pass
    out = conn.output.decode(errors="replace")
    print("output: " + (out[:-1] if out.endswith("\n") else out))
    print("opcodes: " + " ".join(conn.opcodes))
    print("close: %s" % ("none" if conn.close is None else conn.close))
    if conn.hold:
        while sock.recv(4096):
            pass
        print("held: the server ended the connection")


main()
