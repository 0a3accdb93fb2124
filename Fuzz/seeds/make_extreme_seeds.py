#!/usr/bin/env python3
"""Writes the extreme-integer seeds Fuzz/seeds/<target>/extreme-*.bin (run from anywhere).

Small, valid-looking payloads whose numbers sit at the edges: Int64.min/max, UInt64.max, 2^64,
2^32, 2^31, -2^31-1, NaN, ±inf, -0, huge and tiny exponents, decimal fractions (CBOR tag 4)
with exponent ±2^63, bignums (tags 2/3). Hand-built from RFC 8949 / RFC 8259 / RFC 7252 / the
LwM2M TS, not with our encoders. See README.md in this directory.
"""

from __future__ import annotations

import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent
I64MIN_ARG = (2**63 - 1).to_bytes(8, "big")  # major type 1 with this argument is -2^63


def u64(v: int) -> bytes:
    return v.to_bytes(8, "big")


def cbor_text(s: str) -> bytes:
    b = s.encode()
    assert len(b) < 24
    return bytes([0x60 | len(b)]) + b


# CBOR numbers (RFC 8949 §3.1, §3.4.4)
NUMS = {
    "i64min": b"\x3b" + I64MIN_ARG, "i64max": b"\x1b" + u64(2**63 - 1), "u64max": b"\x1b" + u64(2**64 - 1),
    "n2p64": b"\x3b" + u64(2**64 - 1), "2p32": b"\x1b" + u64(2**32), "2p31": b"\x1a" + (2**31).to_bytes(4, "big"),
    "n2p31m1": b"\x3a" + (2**31).to_bytes(4, "big"), "nan": b"\xfb\x7f\xf8" + b"\x00" * 6,
    "inf": b"\xfb\x7f\xf0" + b"\x00" * 6, "ninf": b"\xf9\xfc\x00", "nzero": b"\xfb\x80" + b"\x00" * 7,
    "f64max": b"\xfb" + struct.pack(">d", 1.7976931348623157e308), "2p63f": b"\xfb" + struct.pack(">d", 2.0**63),
    "dec-exp-i64min": b"\xc4\x82\x3b" + I64MIN_ARG + b"\x01",
    "dec-exp-i64max": b"\xc4\x82\x1b" + u64(2**63 - 1) + b"\x01",
    "dec-both-i64min": b"\xc4\x82\x3b" + I64MIN_ARG + b"\x3b" + I64MIN_ARG,
    "dec-exp18-mant-i64max": b"\xc4\x82\x12\x1b" + u64(2**63 - 1),
    "dec-exp-m400": b"\xc4\x82\x39\x01\x8f\x01", "dec-mant-u64max": b"\xc4\x82\x00\x1b" + u64(2**64 - 1),
    "bigfloat-exp-i64min": b"\xc5\x82\x3b" + I64MIN_ARG + b"\x01",
    "bignum": b"\xc2\x49\x01" + b"\x00" * 8, "negbignum": b"\xc3\x49\x01" + b"\x00" * 8,
    "epoch-i64min": b"\xc1\x3b" + I64MIN_ARG, "epoch-dec-exp-i64min": b"\xc1\xc4\x82\x3b" + I64MIN_ARG + b"\x01",
}


def senml_cbor(name: str, value: bytes, label: int = 0x02, extra: bytes = b"") -> bytes:
    entries = 2 + (1 if extra else 0)
    return b"\x81" + bytes([0xA0 | entries]) + b"\x00" + cbor_text(name) + bytes([label]) + value + extra


def write(target: str, name: str, data: bytes) -> None:
    (HERE / target).mkdir(exist_ok=True)
    (HERE / target / f"extreme-{name}.bin").write_bytes(data)


def main() -> None:
    # SenML CBOR (112): v on a float, an integer and a string resource; bv; t; bt.
    for key, value in NUMS.items():
        write("senml-cbor", f"v-{key}", senml_cbor("/3303/0/5700", value))
    write("senml-cbor", "issue10-utc-offset", bytes.fromhex("81a200672f332f302f313402c4823b7fffffffffffffff01"))
    write("senml-cbor", "bv-dec-exp-i64min", senml_cbor("/3/0/9", b"\x01", extra=b"\x24" + NUMS["dec-exp-i64min"]))
    write("senml-cbor", "bv-i64max-plus-v", senml_cbor("/3/0/9", b"\x01", extra=b"\x24" + NUMS["i64max"]))
    write("senml-cbor", "t-i64min", senml_cbor("/3/0/9", b"\x01", extra=b"\x06" + NUMS["i64min"]))
    write("senml-cbor", "bt-f64max", senml_cbor("/3/0/9", b"\x01", extra=b"\x22" + NUMS["f64max"]))
    write("senml-cbor", "time-i64min", senml_cbor("/3/0/13", NUMS["i64min"]))
    write("senml-cbor", "unsigned-u64max", senml_cbor("/3/0/9", NUMS["u64max"]))
    # CBOR / LwM2M CBOR (11544): {[3, 0, 13]: n}, {3303: {0: {5700: n}}}
    for key, value in NUMS.items():
        write("cbor", f"lwm2m-{key}", b"\xa1\x83\x03\x00\x0d" + value)
    write("cbor", "lwm2m-nested-dec-exp-i64min",
          b"\xa1\x19\x0c\xe7\xa1\x00\xa1\x19\x16\x44" + NUMS["dec-exp-i64min"])
    write("cbor", "lengths-u64max", b"\x84\x5b" + u64(2**64 - 1))
    # JSON, SenML JSON (110), LwM2M JSON (11543)
    jnums = ["-9223372036854775808", "-9223372036854775809", "9223372036854775807", "18446744073709551615",
             "18446744073709551616", "4294967296", "2147483648", "-2147483649", "1e308", "1.8e308", "1e-400",
             "5e-324", "-0", "-0.0", "1E+2147483648", "1e-2147483649", "92233720368547758.08e2"]
    for i, n in enumerate(jnums):
        write("json", f"number-{i:02d}", f'[{n},{{"v":{n}}}]'.encode())
        write("senml-json", f"v-{i:02d}", f'[{{"n":"/3303/0/5700","v":{n}}},{{"n":"/3/0/9","v":{n}}}]'.encode())
        write("senml-json", f"lwm2m-json-{i:02d}", f'{{"bn":"/3/0/","e":[{{"n":"13","v":{n}}}]}}'.encode())
    write("senml-json", "times-overflow", b'[{"bt":1e308,"t":1e308,"n":"/3/0/9","v":1}]')
    write("senml-json", "bver-i64max", b'[{"bver":9223372036854775807,"n":"/3/0/9","v":1}]')
    # TLV (11542), first byte = the target's base/type selector
    for key, value in (("i64min", u64(2**63)), ("i64max", u64(2**63 - 1)), ("u64max", u64(2**64 - 1)),
                       ("f64nan", b"\x7f\xf8" + b"\x00" * 6), ("f64inf", b"\x7f\xf0" + b"\x00" * 6)):
        for rid in (2, 3, 4, 6):  # integer, unsigned, float, time resources in the target's type rule
            write("tlv-decoder", f"r{rid}-{key}", b"\x02" + bytes([0xC8, rid, 8]) + value)
    write("tlv-decoder", "len24-max", b"\x02\xf8\x00\x02\xff\xff\xff")
    write("tlv-decoder", "instance-len24", b"\x00\x38\x00\x00\x00\x00\x0b\xc8\x02\x08" + u64(2**63))
    # CoAP
    write("coap-decoder", "extreme-options",
          b"\x40\x01\x00\x01" + b"\x63\xff\xff\xff" + b"\xd4\x04\xff\xff\xff\xff" + b"\xd3\x04\xff\xff\xf6"
          + b"\xd3\x04\xff\xff\xf6" + b"\xe4\xff\x00\xff\xff\xff\xff")
    write("coap-decoder", "delta14-len14", b"\x40\x01\x00\x02\xee\xfe\xf2\x00\x00" + b"a" * 269)
    # Link format (attributes with extreme numbers)
    write("link-format", "extreme-attributes",
          b'</3/0>;pmin=4294967296;pmax=9223372036854775808;gt=1e308;lt=-1.8e308;st=-0,'
          b'</1/0>;ssid=65536;dim=18446744073709551616;ver=1.1')
    # Payload codec: [format index][base index] payload — formats: 0 text, 1 opaque, 2 TLV,
    # 3 SenML JSON, 4 SenML CBOR, 5 LwM2M JSON, 6 LwM2M CBOR; bases: 0 /3/0/14, 1 /3/0/13,
    # 2 /3/0, 5 /1/0/1, 17 /1/0/2.
    write("payload-codec", "senml-cbor-issue10", b"\x04\x00" + bytes.fromhex("81a200672f332f302f313402c4823b7fffffffffffffff01"))
    write("payload-codec", "lwm2m-cbor-time-dec", b"\x06\x02" + b"\xa1\x0d" + NUMS["dec-exp-i64min"])
    write("payload-codec", "senml-cbor-lifetime-i64min", b"\x04\x05" + senml_cbor("/1/0/1", NUMS["i64min"]))
    for i, n in enumerate(["-9223372036854775808", "9223372036854775808", "18446744073709551616", "4294967296",
                           "1e308", "nan", "-0"]):
        write("payload-codec", f"text-time-{i}", b"\x00\x01" + n.encode())
        write("payload-codec", f"text-lifetime-{i}", b"\x00\x05" + n.encode())
    write("payload-codec", "tlv-lifetime-i64min", b"\x02\x05" + b"\xc8\x01\x08" + u64(2**63))
    write("payload-codec", "senml-json-lifetime", b"\x03\x05" + b'[{"n":"/1/0/1","v":-9223372036854775808}]')
    write("payload-codec", "lwm2m-json-time", b"\x05\x02" + b'{"bn":"/3/0/","e":[{"n":"13","v":1e308}]}')
    # URI / query / Execute / text values
    for name, text in (("uri-port", "coap://[::1]:65536/rd?ep=x"), ("uri-pct", "coaps://h%00:5684/%zz"),
                       ("query", "pmin=4294967295&pmax=4294967296&gt=1e308&lt=-1e308&st=1e-400"),
                       ("query-huge", "epmin=9999999999&epmax=99999999999"), ("exec", "0='a',9='b',5"),
                       ("int", "-9223372036854775808"), ("uint", "18446744073709551616"), ("float", "1.8e308"),
                       ("objlnk", "65535:65536"), ("path", "/65534/65535/0/0"), ("b64", "AAECAw==")):
        write("uri-query", name, text.encode())
    write("uri-query", "block-max", b"\xff\xff\xff")
    put = b"\x40\x03\x00\x01" + b"\xb1\x31\x01\x31\x12\x2d\x16\xff" + b"\xc8\x01\x08" + u64(2**63)
    write("bootstrap", "lifetime-i64min", bytes([len(put)]) + put)  # [len][PUT /1/1 TLV lifetime = Int64.min]

if __name__ == "__main__":
    main()
