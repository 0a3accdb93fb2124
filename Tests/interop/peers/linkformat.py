"""CoRE link format (RFC 6690) as LwM2M uses it: Register/Update payloads and Discover answers.

    parse('</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>;ver=1.1')
    -> [{"target": "/", "rt": "oma.lwm2m", "ct": "110"}, {"target": "/1/0"},
        {"target": "/3/0", "ver": "1.1"}]

Attribute values are strings with the quotes removed; an attribute without "=" is True. A
Bootstrap-Discover answer may start with a bare attribute (``lwm2m="1.1"``), which is returned as
a link with target None. (The target is not called "uri": Bootstrap-Discover
uses a uri attribute.)
"""

from __future__ import annotations


class LinkFormatError(ValueError):
    pass


def _split(text: str, separator: str) -> list[str]:
    """Splits on ``separator`` outside double quotes and angle brackets."""
    parts, current, quoted, bracketed = [], [], False, False
    for char in text:
        if char == '"' and not bracketed:
            quoted = not quoted
        elif char == "<" and not quoted:
            bracketed = True
        elif char == ">" and not quoted:
            bracketed = False
        if char == separator and not quoted and not bracketed:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted or bracketed:
        raise LinkFormatError(f"unterminated quote or bracket in {text!r}")
    parts.append("".join(current))
    return parts


def parse(text: str) -> list[dict]:
    links = []
    for item in _split(text.strip(), ","):
        item = item.strip()
        if not item:
            continue
        params = _split(item, ";")
        head = params[0].strip()
        link: dict = {}
        if head.startswith("<"):
            if not head.endswith(">"):
                raise LinkFormatError(f"bad link {item!r}")
            link["target"] = head[1:-1]
            params = params[1:]
        else:
            link["target"] = None
        for param in params:
            param = param.strip()
            if not param:
                continue
            name, eq, value = param.partition("=")
            if not eq:
                link[name] = True
            else:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                link[name.strip()] = value
        links.append(link)
    return links


def registered_objects(links: list[dict]) -> tuple[str, dict[int, list[int]], dict[int, str]]:
    """(root path, object id -> instance ids, object id -> version) from a Register payload.

    The root is "/" unless a link carries rt="oma.lwm2m" (an alternate path such as "/lwm2m").
    Object links without instances ("</5>") give an empty instance list.
    """
    root = "/"
    for link in links:
        if link.get("rt") == "oma.lwm2m" and link.get("target"):
            root = link["target"]
    prefix = root.rstrip("/")
    objects: dict[int, list[int]] = {}
    versions: dict[int, str] = {}
    for link in links:
        uri = link.get("target")
        if not uri or uri == root or not uri.startswith(prefix + "/"):
            continue
        parts = [part for part in uri[len(prefix):].split("/") if part]
        if not parts or not all(part.isdigit() for part in parts) or len(parts) > 2:
            continue
        obj = int(parts[0])
        instances = objects.setdefault(obj, [])
        if len(parts) == 2 and int(parts[1]) not in instances:
            instances.append(int(parts[1]))
        if "ver" in link:
            versions[obj] = link["ver"]
    return root, objects, versions
