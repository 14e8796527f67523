#!/usr/bin/env python3
"""Reads TensorBoard event files with the Python standard library only, as a check on the
TypeScript writer that shares none of its code: its own CRC32C table, its own protobuf
wire-format parser. Prints one JSON object per event; exits 1 on a bad CRC or a torn record.

usage: read_tfevents.py FILE...
"""
import json
import struct
import sys


def crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def fields(buf):
    """Yields (field number, wire type, value) of one protobuf message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            size, i = varint(buf, i)
            value, i = buf[i:i + size], i + size
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        yield number, wire, value


def decode_event(data):
    event = {"step": 0}
    for number, _, value in fields(data):
        if number == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif number == 2:
            event["step"] = value
        elif number == 3:
            event["file_version"] = value.decode()
        elif number == 5:
            scalars = {}
            for n, _, v in fields(value):
                if n != 1:
                    continue
                tag, simple = None, None
                for vn, _, vv in fields(v):
                    if vn == 1:
                        tag = vv.decode()
                    elif vn == 2:
                        simple = struct.unpack("<f", vv)[0]
                scalars[tag] = simple
            event["scalars"] = scalars
        elif number == 6:
            status = 0
            for n, _, v in fields(value):
                if n == 1:
                    status = v
            event["session_log_status"] = status
    return event


def read(path):
    with open(path, "rb") as f:
        buf = f.read()
    i = 0
    while i < len(buf):
        if i + 12 > len(buf):
            raise ValueError("%s: torn record header at byte %d" % (path, i))
        header = buf[i:i + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", buf[i + 8:i + 12])
        if masked(header) != length_crc:
            raise ValueError("%s: bad length CRC at byte %d" % (path, i))
        data = buf[i + 12:i + 12 + length]
        (data_crc,) = struct.unpack("<I", buf[i + 12 + length:i + 16 + length])
        if len(data) != length or masked(data) != data_crc:
            raise ValueError("%s: bad data CRC at byte %d" % (path, i))
        yield decode_event(data)
        i += 16 + length


if __name__ == "__main__":
    try:
        for p in sys.argv[1:]:
            for e in read(p):
                e["file"] = p
                print(json.dumps(e))
    except ValueError as err:
        print(str(err), file=sys.stderr)
        sys.exit(1)
