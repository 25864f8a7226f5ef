#!/usr/bin/python3
"""ws_client_lib.py SOCKET PATH INPUT: attach/ws through Debian's websocket
client library (python3-websocket), a second client besides ws_attach.py.
Sends INPUT (backslash escapes) as one binary frame, then prints each data
frame's opcode name once, all output, and the close code."""
import codecs
import socket
import struct
import sys

import websocket

sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
sock.settimeout(30)
ws = websocket.WebSocket()
ws.connect("ws://localhost" + sys.argv[2], socket=sock)
ws.send_binary(codecs.decode(sys.argv[3], "unicode_escape").encode("latin-1"))
output, names = b"", []
while True:
    opcode, data = ws.recv_data(control_frame=True)
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        code = struct.unpack(">H", data[:2])[0] if len(data) >= 2 else None
        break
    if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
        name = websocket.ABNF.OPCODE_MAP[opcode]
        if name not in names:
            names.append(name)
    output += data
print("output: " + output.decode(errors="replace").rstrip("\n"))
print("opcodes: " + " ".join(names))
print("close: %s" % code)
