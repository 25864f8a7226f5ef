#!/usr/bin/env python3
"""hijack.py SOCKET PATH [SECONDS]: a hijacked POST (attach, exec start) on a
UNIX socket, as docker-py makes it. Prints the status line, then each frame
of the multiplexed stream as "<stream>:<payload>" until EOF or the timeout."""
import socket
import sys

sock, path = sys.argv[1], sys.argv[2]
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
s.settimeout(timeout)
s.sendall(("POST %s HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\n"
           "Upgrade: tcp\r\nContent-Length: 0\r\n\r\n" % path).encode())
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
head, _, body = data.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode())
i = 0
while i + 8 <= len(body):
    n = int.from_bytes(body[i + 4:i + 8], "big")
    sys.stdout.write("%d:%s" % (body[i], body[i + 8:i + 8 + n].decode()))
    i += 8 + n
