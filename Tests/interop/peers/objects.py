"""Resource types of the LwM2M objects the peers need to type values (TLV carries no types).

Transcribed from the OMA registry definitions in /work/shared/oma-objects (0.xml 1.2, 1.xml 1.2,
2.xml 1.1, 3.xml 1.2, 4.xml 1.3, 5.xml 1.2, 6.xml, 7.xml, 3303.xml 1.1): resource id ->
(type, multiple instances). Types: string, integer, unsigned, float, boolean, opaque, time,
objlnk, corelnk, none (executable).
"""

from __future__ import annotations

RESOURCES: dict[int, dict[int, tuple[str, bool]]] = {
    0: {  # LWM2M Security 1.2
        0: ('string', False), 1: ('boolean', False), 2: ('integer', False), 3: ('opaque', False),
        4: ('opaque', False), 5: ('opaque', False), 6: ('integer', False), 7: ('opaque', False),
        8: ('opaque', False), 9: ('string', False), 10: ('integer', False), 11: ('integer', False),
        12: ('integer', False), 13: ('unsigned', False), 14: ('string', False),
        15: ('unsigned', False), 16: ('unsigned', True), 17: ('objlnk', False),
        18: ('unsigned', True), 19: ('unsigned', True), 20: ('unsigned', True),
        21: ('unsigned', True), 22: ('unsigned', False), 23: ('unsigned', False),
        24: ('unsigned', False), 25: ('string', True), 26: ('objlnk', False), 27: ('objlnk', True),
        28: ('integer', False), 29: ('integer', False), 30: ('string', False),
    },
    1: {  # LwM2M Server 1.2
        0: ('integer', False), 1: ('integer', False), 2: ('integer', False), 3: ('integer', False),
        4: ('none', False), 5: ('integer', False), 6: ('boolean', False), 7: ('string', False),
        8: ('none', False), 9: ('none', False), 10: ('objlnk', False), 11: ('unsigned', False),
        12: ('time', False), 13: ('unsigned', False), 14: ('unsigned', False),
        15: ('boolean', False), 16: ('boolean', False), 17: ('unsigned', False),
        18: ('unsigned', False), 19: ('unsigned', False), 20: ('unsigned', False),
        21: ('boolean', False), 22: ('string', False), 23: ('boolean', False), 24: ('objlnk', True),
        25: ('string', True), 26: ('integer', False), 27: ('unsigned', False),
    },
    2: {  # LwM2M Access Control 1.1
        0: ('integer', False), 1: ('integer', False), 2: ('integer', True), 3: ('integer', False),
    },
    3: {  # Device 1.2
        0: ('string', False), 1: ('string', False), 2: ('string', False), 3: ('string', False),
        4: ('none', False), 5: ('none', False), 6: ('integer', True), 7: ('integer', True),
        8: ('integer', True), 9: ('integer', False), 10: ('integer', False), 11: ('integer', True),
        12: ('none', False), 13: ('time', False), 14: ('string', False), 15: ('string', False),
        16: ('string', False), 17: ('string', False), 18: ('string', False), 19: ('string', False),
        20: ('integer', False), 21: ('integer', False), 22: ('objlnk', True),
    },
    4: {  # Connectivity Monitoring 1.3
        0: ('integer', False), 1: ('integer', True), 2: ('integer', False), 3: ('integer', False),
        4: ('string', True), 5: ('string', True), 6: ('integer', False), 7: ('string', True),
        8: ('integer', False), 9: ('integer', False), 10: ('integer', False),
        11: ('integer', False), 12: ('integer', False), 13: ('integer', False),
    },
    5: {  # Firmware Update 1.2
        0: ('opaque', False), 1: ('string', False), 2: ('none', False), 3: ('integer', False),
        5: ('integer', False), 6: ('string', False), 7: ('string', False), 8: ('integer', True),
        9: ('integer', False), 10: ('none', False), 11: ('integer', False), 12: ('time', False),
        13: ('unsigned', False), 14: ('boolean', False),
    },
    6: {  # Location 1.0
        0: ('float', False), 1: ('float', False), 2: ('float', False), 3: ('float', False),
        4: ('opaque', False), 5: ('time', False), 6: ('float', False),
    },
    7: {  # Connectivity Statistics 1.0
        0: ('integer', False), 1: ('integer', False), 2: ('integer', False), 3: ('integer', False),
        4: ('integer', False), 5: ('integer', False), 6: ('none', False), 7: ('none', False),
        8: ('integer', False),
    },
    3303: {  # Temperature 1.1
        5700: ('float', False), 5601: ('float', False), 5602: ('float', False),
        5603: ('float', False), 5604: ('float', False), 5701: ('string', False),
        5605: ('none', False), 5750: ('string', False), 5518: ('time', False),
        6050: ('float', False), 6042: ('integer', False), 6049: ('integer', False),
    },
}


def resource_type(obj: int, res: int) -> tuple[str, bool] | None:
    """(type, multiple) of /obj/x/res, or None if the table does not know it."""
    return RESOURCES.get(obj, {}).get(res)
