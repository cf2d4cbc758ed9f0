#!/usr/bin/env python3
"""nameprobe: sends crafted first flights to HOST:PORT from inside the sandbox and prints
what came back: SERVERHELLO (a TLS server answered a ClientHello), the HTTP answers, the
first bytes of another answer, or CLOSED (nothing came back: the flow was cut).

Steps, in order:
  s:TEXT          send TEXT (backslash escapes: \\r \\n)
  p:SECONDS       pause
  h:SNI[,opt...]  send a crafted TLS 1.3 ClientHello naming SNI; options:
                  split=N  records of at most N bytes (default 16384); the first
                           record goes alone, 0.3 s before the others
                  pad=N    a padding extension of N bytes
                  ech      an ECH extension (0xfe0d, GREASE: random payload)
                  also=NAME a second host_name in the server_name list
                  stall=N  send N bytes, pause 0.8 s, send the rest
"""
import os
import socket
import struct
import sys
import time


def u16(n):
    return struct.pack(">H", n)


def ext(typ, data):
    return u16(typ) + u16(len(data)) + data


def client_hello(sni, opts):
    names = b""
    for n in [sni] + ([opts["also"]] if "also" in opts else []):
        n = n.encode()
        names += b"\x00" + u16(len(n)) + n
    exts = ext(0, u16(len(names)) + names)
    exts += ext(10, u16(2) + u16(29))                      # supported_groups: x25519
    exts += ext(13, u16(4) + u16(0x0403) + u16(0x0804))    # signature_algorithms
    exts += ext(43, b"\x02\x03\x04")                       # supported_versions: TLS 1.3
    exts += ext(51, u16(36) + u16(29) + u16(32) + os.urandom(32))  # key_share
    if "ech" in opts:  # outer ECHClientHello: type, HPKE suite, config id, enc, payload
        exts += ext(0xfe0d, b"\x00" + u16(1) + u16(1) + b"\x2a" + u16(32) + os.urandom(32) + u16(208) + os.urandom(208))
    if "pad" in opts:
        exts += ext(21, bytes(int(opts["pad"])))
    body = u16(0x0303) + os.urandom(32) + b"\x20" + os.urandom(32) + u16(2) + u16(0x1301) + b"\x01\x00" + u16(len(exts)) + exts
    msg = b"\x01" + len(body).to_bytes(3, "big") + body
    size = int(opts.get("split", 16384))
    out = []
    for i in range(0, len(msg), size):
        chunk = msg[i:i + size]
        out.append(b"\x16\x03\x01" + u16(len(chunk)) + chunk)
    return out


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    s = socket.create_connection((host, port), timeout=20)
    for step in sys.argv[3:]:
        kind, _, arg = step.partition(":")
        if kind == "s":
            s.sendall(arg.encode().decode("unicode_escape").encode("latin-1"))
        elif kind == "p":
            time.sleep(float(arg))
        elif kind == "h":
            sni, *rest = arg.split(",")
            opts = dict((o.split("=", 1) + [""])[:2] for o in rest)
            recs = client_hello(sni, opts)
            if "split" in opts and len(recs) > 1:
                s.sendall(recs[0])
                time.sleep(0.3)
                recs = recs[1:]
            data = b"".join(recs)
            if "stall" in opts:
                n = int(opts["stall"])
                s.sendall(data[:n])
                time.sleep(0.8)
                data = data[n:]
            s.sendall(data)
    got = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
            if got[:1] == b"\x16" and len(got) >= 6:
                break
    except (ConnectionResetError, socket.timeout):
        pass
    if not got:
        print("CLOSED")
    elif got[:1] == b"\x16" and len(got) >= 6 and got[5] == 2:
        print("SERVERHELLO")
    else:
        print(got[:2000].decode("latin-1"))


main()
