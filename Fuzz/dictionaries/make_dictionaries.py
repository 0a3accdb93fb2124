#!/usr/bin/env python3
"""Writes the libFuzzer dictionaries Fuzz/dictionaries/<target>.dict (run from anywhere).

The entries are what random byte mutation almost never produces on its own: 8-byte CBOR heads
with extreme arguments (issue 10: a decimal fraction with exponent -2^63 crashed the daemon and
eight fuzz targets never found it), tags 1-5, IEEE special floats, JSON numbers at the edges of
Int64/UInt64/Double, TLV headers with 24-bit lengths, CoAP option headers with the extended
delta/length nibbles 13/14/15, and each format's keywords. Written from RFC 8949, RFC 8259,
RFC 7252, RFC 6690, RFC 8428 and the LwM2M TS 1.1 §7.4 — not from our sources.
"""

from __future__ import annotations

import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent


def esc(data: bytes) -> str:
    return "".join(chr(b) if 0x20 <= b < 0x7F and b not in (0x22, 0x5C) else f"\\x{b:02x}" for b in data)


def u64(v: int) -> bytes:
    return v.to_bytes(8, "big")


# ---- CBOR (RFC 8949) -------------------------------------------------------------------
EXTREME_U64 = {
    "max": 2**64 - 1, "i64max": 2**63 - 1, "i64min_mag": 2**63, "2p32": 2**32, "2p32m1": 2**32 - 1,
    "2p31": 2**31, "2p31m1": 2**31 - 1, "2p53": 2**53, "2p53p1": 2**53 + 1, "one": 1, "zero": 0,
}
cbor: list[tuple[str, bytes]] = []
for name, v in EXTREME_U64.items():
    cbor.append((f"uint_8b_{name}", b"\x1b" + u64(v)))       # major 0: v
    cbor.append((f"nint_8b_{name}", b"\x3b" + u64(v)))       # major 1: -1 - v  (0x7fff.. is -2^63)
for name, head in (("bytes", 0x5B), ("text", 0x7B), ("array", 0x9B), ("map", 0xBB), ("tag", 0xDB)):
    cbor.append((f"{name}_len_max", bytes([head]) + u64(2**64 - 1)))
    cbor.append((f"{name}_len_i64min", bytes([head]) + u64(2**63)))
    cbor.append((f"{name}_len_2p32", bytes([head]) + u64(2**32)))
for name, v in (("max", 0xFFFFFFFF), ("2p31", 2**31), ("2p31m1", 2**31 - 1)):
    cbor.append((f"uint_4b_{name}", b"\x1a" + v.to_bytes(4, "big")))
    cbor.append((f"nint_4b_{name}", b"\x3a" + v.to_bytes(4, "big")))
    cbor.append((f"len_4b_{name}", b"\x9a" + v.to_bytes(4, "big")))
cbor += [("uint_2b_max", b"\x19\xff\xff"), ("uint_2b_fffe", b"\x19\xff\xfe"), ("uint_1b_max", b"\x18\xff"),
         ("nint_2b_max", b"\x39\xff\xff")]
# Tags: 0 date text, 1 epoch, 2/3 bignums, 4 decimal fraction, 5 bigfloat; 8-byte tag numbers.
cbor += [("tag0", b"\xc0"), ("tag1", b"\xc1"), ("tag2_bignum", b"\xc2"), ("tag3_negbignum", b"\xc3"),
         ("tag4_decimal", b"\xc4\x82"), ("tag5_bigfloat", b"\xc5\x82"), ("tag1_nested", b"\xc1\xc1"),
         ("tag2_9bytes", b"\xc2\x49\x01\x00\x00\x00\x00\x00\x00\x00\x00"),
         ("tag3_9bytes", b"\xc3\x49\x01\x00\x00\x00\x00\x00\x00\x00\x00"),
         ("tag4_exp_i64min", b"\xc4\x82\x3b" + u64(2**63 - 1)),
         ("tag4_exp_i64max", b"\xc4\x82\x1b" + u64(2**63 - 1)),
         ("tag4_exp_i64min_mant_i64min", b"\xc4\x82\x3b" + u64(2**63 - 1) + b"\x3b" + u64(2**63 - 1)),
         ("tag4_exp_m400", b"\xc4\x82\x39\x01\x8f"), ("tag4_exp_400", b"\xc4\x82\x19\x01\x90"),
         ("tag4_mant_u64max", b"\xc4\x82\x01\x1b" + u64(2**64 - 1)),
         ("tag4_mant_bignum", b"\xc4\x82\x01\xc2\x41\x01"),
         ("tag5_exp_i64min", b"\xc5\x82\x3b" + u64(2**63 - 1)),
         ("tag_8b_max", b"\xdb" + u64(2**64 - 1))]
# Floats: half, single, double specials.
for name, d in (("inf", float("inf")), ("ninf", float("-inf")), ("nan", float("nan")), ("nzero", -0.0),
                ("max", 1.7976931348623157e308), ("min_sub", 5e-324), ("2p63", 2.0**63), ("n2p63", -(2.0**63)),
                ("2p64", 2.0**64), ("2p32", 2.0**32), ("n2p31m1", -(2.0**31) - 1), ("half", 0.5)):
    cbor.append((f"f64_{name}", b"\xfb" + struct.pack(">d", d)))
cbor += [("f32_inf", b"\xfa\x7f\x80\x00\x00"), ("f32_nan", b"\xfa\x7f\xc0\x00\x00"),
         ("f32_max", b"\xfa\x7f\x7f\xff\xff"), ("f16_inf", b"\xf9\x7c\x00"), ("f16_ninf", b"\xf9\xfc\x00"),
         ("f16_nan", b"\xf9\x7e\x00"), ("f16_nzero", b"\xf9\x80\x00"), ("f16_sub", b"\xf9\x00\x01"),
         ("simple_true", b"\xf5"), ("simple_false", b"\xf4"), ("null", b"\xf6"), ("undefined", b"\xf7"),
         ("simple_1b", b"\xf8\x20"), ("break", b"\xff"), ("indef_array", b"\x9f"), ("indef_map", b"\xbf"),
         ("indef_bytes", b"\x5f"), ("indef_text", b"\x7f"), ("reserved_ai", b"\x1c")]

senml_cbor = [("label_bver", b"\x20"), ("label_bn", b"\x21"), ("label_bt", b"\x22"), ("label_bu", b"\x23"),
              ("label_bv", b"\x24"), ("label_bs", b"\x25"), ("label_n", b"\x00"), ("label_u", b"\x01"),
              ("label_v", b"\x02"), ("label_vs", b"\x03"), ("label_vb", b"\x04"), ("label_s", b"\x05"),
              ("label_t", b"\x06"), ("label_ut", b"\x07"), ("label_vd", b"\x08"), ("label_vlo", b"\x63vlo"),
              ("label_must_understand", b"\x62x_"),
              ("name_3_0_14", b"\x67/3/0/14"), ("name_3_0_", b"\x65/3/0/"), ("name_root", b"\x61/"),
              ("name_1_0_1", b"\x66/1/0/1"), ("name_3303", b"\x6d/3303/0/5700"), ("name_max", b"\x6c/65534/65535"),
              ("record_v", b"\x81\xa2\x00\x67/3/0/14\x02"), ("record_bn", b"\x81\xa3\x21\x65/3/0/\x00"),
              ("objlnk_null", b"\x6b65535:65535"), ("objlnk_big", b"\x6b65536:99999")]
lwm2m_cbor = [("key_path_3_0_14", b"\x83\x03\x00\x0e"), ("key_path_4", b"\x84\x03\x00\x0b\x00"),
              ("key_65535", b"\x19\xff\xff"), ("key_65534", b"\x19\xff\xfe"), ("key_3303", b"\x19\x0c\xe7"),
              ("key_5700", b"\x19\x16\x44"), ("map1", b"\xa1"), ("map2", b"\xa2"), ("empty_key", b"\x80")]

# ---- JSON (RFC 8259) / SenML JSON / LwM2M JSON ----------------------------------------
json_numbers = ["-9223372036854775808", "-9223372036854775809", "9223372036854775807", "9223372036854775808",
                "18446744073709551615", "18446744073709551616", "-18446744073709551616", "4294967295",
                "4294967296", "2147483647", "2147483648", "-2147483648", "-2147483649", "65535", "65536",
                "1e308", "1.7976931348623157e308", "1.8e308", "-1e308", "1e-400", "5e-324", "4.9e-324", "-0",
                "-0.0", "0e0", "1E+2147483648", "1e-2147483649", "1e999999999999", "1e-999999999999",
                "9223372036854775807e0", "92233720368547758.08e2", "0.9223372036854775808e19",
                "123456789012345678901234567890", "1.0000000000000000000001", "100e-2", "1e19", "1e20",
                "-1e19", "-1e-19", "1e+1", "1E-1"]
json_tokens = ["{", "}", "[", "]", ":", ",", "true", "false", "null", "\"\"", "\\u0000", "\\ud800", "\\udc00",
               "\\ud800\\udc00", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]
senml_keys = ["bn", "bt", "bu", "bv", "bs", "bver", "n", "u", "v", "vs", "vb", "vd", "vlo", "s", "t", "ut", "x_"]
senml_json = ([(f"key_{k}", f"\"{k}\":".encode()) for k in senml_keys]
              + [("name_3_0_14", b"\"/3/0/14\""), ("name_3_0_", b"\"/3/0/\""), ("name_root", b"\"/\""),
                 ("name_65535", b"\"/65535/0/0\""), ("objlnk_null", b"\"65535:65535\""),
                 ("objlnk_big", b"\"65536:0\""), ("record", b"[{\"n\":\"/3/0/14\",\"v\":"),
                 ("bver_big", b"\"bver\":9223372036854775807"), ("b64_pad", b"\"AA==\""),
                 ("b64_url", b"\"-_-_\""), ("lwm2m_json", b"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"0\",\"v\":"),
                 ("key_e", b"\"e\":"), ("key_sv", b"\"sv\":"), ("key_bv_lwm2m", b"\"bv\":"), ("key_ov", b"\"ov\":")])

# ---- LwM2M TLV (TS 1.1 §7.4.3) --------------------------------------------------------
tlv = []
for kind, name in ((0x00, "instance"), (0x40, "res_instance"), (0x80, "multi_res"), (0xC0, "res")):
    tlv.append((f"{name}_len24_max", bytes([kind | 0x38, 0x00, 0xFF, 0xFF, 0xFF])))       # 16-bit id, 24-bit len
    tlv.append((f"{name}_len24_id8", bytes([kind | 0x18, 0x00, 0xFF, 0xFF, 0xFF])))
    tlv.append((f"{name}_len16", bytes([kind | 0x10, 0x00, 0xFF, 0xFF])))
    tlv.append((f"{name}_id16_max", bytes([kind | 0x20 | 0x08, 0xFF, 0xFF])))
    tlv.append((f"{name}_id16_fffe", bytes([kind | 0x20 | 0x08, 0xFF, 0xFE])))
    tlv.append((f"{name}_len8", bytes([kind | 0x08, 0x00])))
tlv += [("int8_i64min", b"\xc8\x00\x08" + u64(2**63)), ("int8_i64max", b"\xc8\x00\x08" + u64(2**63 - 1)),
        ("int8_u64max", b"\xc8\x00\x08" + u64(2**64 - 1)), ("int4_i32min", b"\xc4\x00\x80\x00\x00\x00"),
        ("int4_u32max", b"\xc4\x00\xff\xff\xff\xff"), ("int2_min", b"\xc2\x00\x80\x00"),
        ("f32_inf", b"\x7f\x80\x00\x00"), ("f32_nan", b"\x7f\xc0\x00\x00"), ("f64_inf", b"\x7f\xf0" + b"\x00" * 6),
        ("f64_nan", b"\x7f\xf8" + b"\x00" * 6), ("f64_nzero", b"\x80" + b"\x00" * 7),
        ("objlnk_null", b"\xff\xff\xff\xff"), ("i64min", u64(2**63)), ("u64max", u64(2**64 - 1)),
        ("i64max", u64(2**63 - 1))]

# ---- Plain text / opaque / paths / URIs / queries / Execute arguments -------------------
text = [("int_" + n, n.encode()) for n in ("-9223372036854775808", "-9223372036854775809", "9223372036854775807",
                                           "9223372036854775808", "18446744073709551615", "18446744073709551616",
                                           "4294967295", "4294967296", "2147483648", "-2147483649", "+5", "-0")]
text += [("float_" + n.replace(".", "_").replace("-", "m").replace("+", "p"), n.encode())
         for n in ("1e308", "1.8e308", "-1.8e308", "1e-400", "5e-324", "-0.0", "nan", "NaN", "inf", "-inf",
                   "infinity", "0x1p3", "1e+", ".5", "5.")]
text += [("bool_1", b"1"), ("bool_true", b"true"), ("objlnk_null", b"65535:65535"), ("objlnk_big", b"65536:1"),
         ("objlnk_neg", b"-1:0"), ("b64", b"AAECAw=="), ("b64_bad_pad", b"A===")]
paths = [("path_3_0_14", b"/3/0/14"), ("path_max", b"/65534/65534/65534/65534"), ("path_65535", b"/65535"),
         ("path_65536", b"/65536"), ("path_leading0", b"/03"), ("path_5", b"/1/2/3/4/5"), ("path_root", b"/"),
         ("path_empty_seg", b"//")]
uri = [("coap", b"coap://"), ("coaps", b"coaps://"), ("ipv6", b"[::1]"), ("ipv6_open", b"[::1"),
       ("port_max", b":65535"), ("port_over", b":65536"), ("port_0", b":0"), ("port_neg", b":-1"),
       ("port_huge", b":18446744073709551616"), ("pct_00", b"%00"), ("pct_0a", b"%0a"), ("pct_bad", b"%zz"),
       ("pct_cut", b"%"), ("query", b"?"), ("amp", b"&"), ("fragment", b"#"), ("userinfo", b"user@"),
       ("q_ep", b"ep="), ("q_lt", b"lt="), ("q_b", b"b="), ("q_lwm2m", b"lwm2m=1.1")]
attrs = [(f"attr_{a}", f"{a}=".encode()) for a in ("pmin", "pmax", "gt", "lt", "st", "epmin", "epmax", "con", "hqmax")]
attrs += [("attr_" + a + "_remove", a.encode()) for a in ("pmin", "gt", "st")]
attrs += [("num_" + n.replace(".", "_").replace("-", "m").replace("+", "p"), n.encode())
          for n in ("4294967295", "4294967296", "9999999999", "99999999999", "2147483647", "2147483648",
                    "9223372036854775808", "1e308", "-1e308", "1.8e308", "1e-400", "-0", "+1", "1e", "e1",
                    "--1", "1e+999", "nan", "inf")]
execute = [("arg0", b"0='"), ("arg9", b"9='"), ("arg_close", b"'"), ("arg_sep", b","), ("arg_eq", b"=")]

# ---- CoAP (RFC 7252, 7959, 7641) ---------------------------------------------------------
coap = [("hdr_con_get", b"\x40\x01"), ("hdr_con_put", b"\x40\x03"), ("hdr_con_post", b"\x40\x02"),
        ("hdr_tkl8", b"\x48"), ("hdr_tkl15", b"\x4f"), ("hdr_ack", b"\x60\x45"), ("payload_marker", b"\xff"),
        ("delta13", b"\xd0\x00"), ("delta14", b"\xe0\x00\x00"), ("delta15", b"\xf0"), ("len13", b"\x0d\x00"),
        ("len14", b"\x0e\x00\x00"), ("len15", b"\x0f"), ("delta14_max", b"\xe0\xff\xff"),
        ("delta14_len14_max", b"\xee\xff\xff\xff\xff"), ("delta13_max", b"\xd0\xff"),
        ("opt_uint4_max", b"\xff\xff\xff\xff"), ("opt_uint3_max", b"\xff\xff\xff"),
        ("block2_max", b"\xd3\x0a\xff\xff\xf6"), ("block1_max", b"\xd3\x0e\xff\xff\xf6"),
        ("block_szx7", b"\xd1\x0a\x07"), ("observe_max", b"\x63\xff\xff\xff"),
        ("size1_max", b"\xd4\x2f\xff\xff\xff\xff"), ("maxage_max", b"\xd4\x01\xff\xff\xff\xff"),
        ("cf_112", b"\xc1\x70"), ("cf_11544", b"\xc2\x2d\x18"), ("cf_11542", b"\xc2\x2d\x16"),
        ("cf_110", b"\xc1\x6e"), ("cf_11543", b"\xc2\x2d\x17"), ("uri_path_3", b"\xb1\x33"),
        ("uri_path_bs", b"\xb2bs"), ("uri_path_rd", b"\xb2rd"), ("uri_query", b"\x47ep=node"),
        ("no_response", b"\xd1\xf4\x1a")]

TARGETS = {
    "coap-decoder": coap,
    "tlv-decoder": tlv,
    "link-format": [("lt", b"<"), ("gt", b">"), ("semi", b";"), ("comma", b","), ("eq_quote", b"=\""),
                    ("quote", b"\""), ("link_3_0", b"</3/0>"), ("link_root", b"</>;rt=\"oma.lwm2m\";ct=\"60 110 112 11542 11543 11544\""),
                    ("ver", b";ver=1.1"), ("ssid", b";ssid=65535"), ("uri", b";uri=\"coap://[::1]:5683\""),
                    ("dim", b";dim=4294967296")] + attrs + paths,
    "cbor": cbor + lwm2m_cbor,
    "senml-cbor": cbor + senml_cbor,
    "json": [(f"num_{i}", n.encode()) for i, n in enumerate(json_numbers)]
            + [(f"tok_{i}", t.encode()) for i, t in enumerate(json_tokens)],
    "senml-json": [(f"num_{i}", n.encode()) for i, n in enumerate(json_numbers)]
                  + [(f"tok_{i}", t.encode()) for i, t in enumerate(json_tokens)] + senml_json,
    "bootstrap": coap + tlv + [("uri_path_0", b"\xb1\x30"), ("uri_path_1", b"\xb1\x31"), ("uri_path_2", b"\xb1\x32"),
                               ("chunk_len_max", b"\xff")],
    "payload-codec": cbor + senml_cbor + lwm2m_cbor + tlv + text
                     + [(f"num_{i}", n.encode()) for i, n in enumerate(json_numbers)]
                     + [(f"tok_{i}", t.encode()) for i, t in enumerate(json_tokens)] + senml_json,
    "uri-query": uri + attrs + paths + execute + text,
}


def main() -> None:
    for target, entries in TARGETS.items():
        seen: set[bytes] = set()
        lines = [f"# libFuzzer dictionary for scripts/fuzz.sh {target}.",
                 "# Generated by Fuzz/dictionaries/make_dictionaries.py: edit that, not this file."]
        for name, data in entries:
            if data in seen:
                continue
            seen.add(data)
            safe = "".join(c if c.isalnum() else "_" for c in name)
            lines.append(f'{safe}="{esc(data)}"')
        (HERE / f"{target}.dict").write_text("\n".join(lines) + "\n")
        print(f"{target}.dict: {len(seen)} entries")


if __name__ == "__main__":
    main()
