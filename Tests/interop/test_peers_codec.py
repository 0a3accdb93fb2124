"""Unit tests of the peers' codecs (peers/tlv.py, senml.py, codec.py, linkformat.py) against
hand-checked vectors: the Device object and Access Control examples of OMA TS 1.1 §7.4.3, and
SenML records checked against RFC 8428's labels."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cbor2
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

import codec  # noqa: E402
import linkformat  # noqa: E402
import senml  # noqa: E402
import tlv  # noqa: E402

# TS 1.1 §7.4.3 example: Read /3/0 of a single-instance Device object, as TLV. Each line checked
# by hand against the type-byte layout (e.g. C8 = resource, 8-bit id, 8-bit length; 86 = multiple
# resource, 8-bit id, length 6 in the type byte; 41 = resource instance of length 1).
DEVICE_TLV = bytes.fromhex(
    "C800144F70656E204D6F62696C6520416C6C69616E6365"      # 0 Manufacturer
    "C801164C69676874776569676874204D324D20436C69656E74"  # 1 Model "Lightweight M2M Client"
    "C80209333435303030313233"                            # 2 Serial "345000123"
    "C303312E30"                                          # 3 Firmware "1.0"
    "8606410001410105"                                    # 6 power sources {0: 1, 1: 5}
    "88070842000ED842011388"                              # 7 voltages {0: 3800, 1: 5000}
    "870841007D42010384"                                  # 8 currents {0: 125, 1: 900}
    "C10964"                                              # 9 battery 100
    "C10A0F"                                              # 10 memory free 15
    "830B410000"                                          # 11 error codes {0: 0}
    "C40D5182428F"                                        # 13 current time 1367491215
    "C60E2B30323A3030"                                    # 14 UTC offset "+02:00"
    "C11055"                                              # 16 binding "U"
)

DEVICE_VALUES = {
    "/3/0/0": "Open Mobile Alliance", "/3/0/1": "Lightweight M2M Client", "/3/0/2": "345000123",
    "/3/0/3": "1.0", "/3/0/6/0": 1, "/3/0/6/1": 5, "/3/0/7/0": 3800, "/3/0/7/1": 5000,
    "/3/0/8/0": 125, "/3/0/8/1": 900, "/3/0/9": 100, "/3/0/10": 15, "/3/0/11/0": 0,
    "/3/0/13": 1367491215, "/3/0/14": "+02:00", "/3/0/16": "U",
}

# TS 1.1 §7.4.3 example: Read /2 (Access Control, two instances) as TLV.
ACL_TLV = bytes.fromhex(
    "08000E" "C10001" "C10100" "8302417F07" "C1037F"                 # instance 0
    "080212" "C10003" "C10100" "8702417F0761013601" "C1037F"  # instance 2
)


def test_tlv_decodes_the_spec_device_example():
    assert codec.decode("/3/0", DEVICE_TLV, codec.TLV) == DEVICE_VALUES


def test_tlv_encodes_the_spec_device_example_byte_for_byte():
    nested = {"0": "Open Mobile Alliance", "1": "Lightweight M2M Client", "2": "345000123", "3": "1.0",
              "6": {"0": 1, "1": 5}, "7": {"0": 3800, "1": 5000}, "8": {"0": 125, "1": 900},
              "9": 100, "10": 15, "11": {"0": 0}, "13": 1367491215, "14": "+02:00", "16": "U"}
    assert codec.encode("/3/0", nested, "tlv") == DEVICE_TLV


def test_tlv_access_control_example_with_16_bit_ids():
    values = codec.decode("/2", ACL_TLV, codec.TLV)
    assert values == {"/2/0/0": 1, "/2/0/1": 0, "/2/0/2/127": 7, "/2/0/3": 127,
                      "/2/2/0": 3, "/2/2/1": 0, "/2/2/2/127": 7, "/2/2/2/310": 1, "/2/2/3": 127}
    nested = {"0": {"0": 1, "1": 0, "2": {"127": 7}, "3": 127},
              "2": {"0": 3, "1": 0, "2": {"127": 7, "310": 1}, "3": 127}}
    assert codec.encode("/2", nested, "tlv") == ACL_TLV


@pytest.mark.parametrize("value, encoded", [
    (0, "00"), (127, "7F"), (128, "0080"), (-1, "FF"), (-128, "80"), (-129, "FF7F"),
    (32767, "7FFF"), (32768, "00008000"), (2**31, "0000000080000000"), (-(2**63), "8000000000000000"),
])
def test_tlv_integers_are_minimal_twos_complement(value, encoded):
    assert tlv.encode_int(value).hex().upper() == encoded
    assert tlv.decode_int(bytes.fromhex(encoded)) == value


def test_tlv_unsigned_floats_booleans_objlnk():
    assert tlv.encode_uint(200) == b"\xc8" and tlv.encode_uint(256) == b"\x01\x00"
    assert tlv.decode_value("unsigned", b"\xc8") == 200
    assert tlv.encode_value("unsigned", 200) == b"\x00\xc8"  # also 200 for a peer reading it signed
    assert tlv.encode_value("unsigned", 49320) == bytes.fromhex("0000C0A8")  # /0/x/16 TLS_PSK_WITH_AES_128_CCM_8
    assert tlv.encode_value("unsigned", 2**64 - 1) == b"\xff" * 8
    assert tlv.encode_float(1.5).hex() == "3fc00000"          # exact in single precision
    assert tlv.encode_float(0.1) == bytes.fromhex("3FB999999999999A")  # needs double
    assert tlv.decode_float(bytes.fromhex("3fc00000")) == 1.5
    assert tlv.encode_bool(True) == b"\x01" and tlv.decode_bool(b"\x00") is False
    assert tlv.encode_objlnk("3:0") == bytes.fromhex("00030000")
    assert tlv.decode_objlnk(bytes.fromhex("FFFFFFFF")) == "65535:65535"
    with pytest.raises(tlv.TlvError):
        tlv.decode_int(b"\x00\x00\x00")


@pytest.mark.parametrize("length, header", [
    (0, "C000"), (7, "C700"), (8, "C80008"), (255, "C800FF"), (256, "D0000100"),
    (65536, "D800010000"),
])
def test_tlv_length_field_sizes(length, header):
    assert tlv.header(tlv.RESOURCE, 0, length).hex().upper() == header


def test_tlv_16_bit_identifier_and_truncation():
    assert tlv.entry(tlv.RESOURCE, 5700, b"\x01").hex().upper() == "E1164401"
    assert tlv.parse(bytes.fromhex("E1164401")) == [tlv.Entry(tlv.RESOURCE, 5700, b"\x01")]
    with pytest.raises(tlv.TlvError):
        tlv.parse(bytes.fromhex("C80509616263"))  # claims 9 bytes, has 3


def test_security_instance_write_wrapped_and_unwrapped():
    value = {"0": "coap://127.0.0.1:5690", "1": False, "2": 3, "3": {"hex": ""}, "10": 101}
    bare = codec.encode("/0/1", value, "tlv")
    assert bare.startswith(bytes.fromhex("C80015") + b"coap://127.0.0.1:5690")
    assert bytes.fromhex("C10100") in bare and bytes.fromhex("C10203") in bare
    assert bytes.fromhex("C003") in bare and bare.endswith(bytes.fromhex("C10A65"))
    wrapped = codec.encode("/0/1", value, "tlv", wrap=True)
    assert wrapped == tlv.header(tlv.OBJECT_INSTANCE, 1, len(bare)) + bare
    expected = {"/0/1/0": "coap://127.0.0.1:5690", "/0/1/1": False, "/0/1/2": 3,
                "/0/1/3": {"hex": ""}, "/0/1/10": 101}
    assert codec.decode("/0/1", bare, "tlv") == expected
    assert codec.decode("/0/1", wrapped, "tlv") == expected
    # an opaque given as a plain string is its UTF-8 bytes
    assert codec.decode("/0/1", codec.encode("/0/1", {"3": "id-1"}, "tlv"), "tlv") == {"/0/1/3": {"hex": b"id-1".hex()}}


def test_senml_json_write_of_an_instance():
    payload = codec.encode("/0/1", {"0": "coap://h", "1": False, "2": 3, "5": {"hex": "fffe"}, "17": "21:0"},
                           "senml-json")
    assert json.loads(payload) == [
        {"bn": "/0/1/", "n": "0", "vs": "coap://h"}, {"n": "1", "vb": False}, {"n": "2", "v": 3},
        {"n": "5", "vd": "__4"}, {"n": "17", "vlo": "21:0"}]
    assert codec.decode("/0/1", payload, 110) == {
        "/0/1/0": "coap://h", "/0/1/1": False, "/0/1/2": 3, "/0/1/5": {"hex": "fffe"}, "/0/1/17": "21:0"}


def test_senml_cbor_uses_integer_labels():
    payload = codec.encode("/1/1", {"0": 101, "1": 300, "7": "U"}, "senml-cbor")
    assert cbor2.loads(payload) == [{-2: "/1/1/", 0: "0", 2: 101}, {0: "1", 2: 300}, {0: "7", 3: "U"}]
    assert codec.decode("/1/1", payload, 112) == {"/1/1/0": 101, "/1/1/1": 300, "/1/1/7": "U"}
    single = codec.encode("/3/0/7/1", 5000, "senml-cbor")
    assert cbor2.loads(single) == [{-2: "/3/0/7/1", 2: 5000}]


def test_senml_base_name_carries_over_records():
    pack = json.dumps([{"bn": "/3/0/", "n": "0", "vs": "A"}, {"n": "9", "v": 50},
                       {"bn": "/1/0/", "n": "1", "v": 60, "t": 0}]).encode()
    assert codec.decode("/", pack, 110) == {"/3/0/0": "A", "/3/0/9": 50, "/1/0/1": 60}
    with pytest.raises(senml.SenmlError):
        senml.decode_json(b'{"n": "x"}')


def test_text_and_opaque():
    assert codec.encode("/3/0/13", 1234567890, "text") == b"1234567890"
    assert codec.decode("/3/0/9", b"87", 0) == {"/3/0/9": 87}
    assert codec.decode("/5/0/0", b"\x01\x02", 42) == {"/5/0/0": {"hex": "0102"}}


def test_link_format_register_and_discover():
    links = linkformat.parse('</>;rt="oma.lwm2m";ct=110, </1/0>,</3/0>;ver=1.1,</5>,</3303/0>,</3303/1>')
    root, objects, versions = linkformat.registered_objects(links)
    assert root == "/" and objects == {1: [0], 3: [0], 5: [], 3303: [0, 1]} and versions == {3: "1.1"}
    assert links[0] == {"target": "/", "rt": "oma.lwm2m", "ct": "110"}
    alt = linkformat.registered_objects(linkformat.parse('</lwm2m>;rt="oma.lwm2m",</lwm2m/1/0>,</lwm2m/3/0>'))
    assert alt[0] == "/lwm2m" and alt[1] == {1: [0], 3: [0]}
    discover = linkformat.parse('lwm2m="1.1",</0/0>;ssid=101;uri="coap://a,b:5683",</1/0>;ssid=101')
    assert discover[0] == {"target": None, "lwm2m": "1.1"}
    assert discover[1] == {"target": "/0/0", "ssid": "101", "uri": "coap://a,b:5683"}
    assert discover[2] == {"target": "/1/0", "ssid": "101"}
