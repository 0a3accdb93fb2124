"""How release executables link (Package.swift ``releaseLinking``, docs/performance.md).

The release daemon links the C++ runtime under the static Swift runtime in: the linker script
``packaging/link/libstdc++.so`` turns the ``-lstdc++`` of Swift's static-stdlib link arguments into
``libstdc++.a``, and ``-static-libgcc`` takes libgcc's unwinder from its archive, so neither
``libstdc++.so.6`` nor ``libgcc_s.so.1`` is loaded at start. The interop suite runs a debug build
(shared Swift runtime), so these tests link a small program with the release flags themselves and
check what it needs at run time and that the linked-in runtime works (Swift strings, a dictionary,
a thrown and caught Swift error, and C++ exception unwinding through libgcc_eh).
"""
import re
import subprocess
from pathlib import Path

from conftest import REPO, require_tool

LINK_DIR = REPO / "packaging" / "link"


def release_flags() -> list[str]:
    """The unsafe linker flags of Package.swift's releaseLinking, with the package directory."""
    manifest = (REPO / "Package.swift").read_text()
    block = re.search(r"let releaseLinking: \[LinkerSetting\] = \[(.*?)\n\]", manifest, re.S)
    assert block, "Package.swift has no releaseLinking"
    flags = re.findall(r'"([^"]*)"', block.group(1).split(".when(")[0])
    return [flag.replace(r"\(Context.packageDirectory)", str(REPO)) for flag in flags]


def needed(binary: Path) -> list[str]:
    dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True, timeout=30).stdout
    return [line.split()[-1].strip("[]") for line in dynamic.splitlines() if "(NEEDED)" in line]


def test_the_manifest_links_release_executables_with_the_linker_script():
    flags = release_flags()
    assert f"-L{LINK_DIR}" in flags, flags
    assert flags[flags.index("-Xclang-linker") + 1] == "-static-libgcc", flags
    script = (LINK_DIR / "libstdc++.so").read_text()
    assert "INPUT(-l:libstdc++.a)" in script, script


def link(tmp_path: Path, name: str, text: str, command: list[str]) -> Path:
    """Writes `text` to `name` in tmp_path and builds it with `command` (compiler and options)."""
    source = tmp_path / name
    source.write_text(text)
    binary = tmp_path / source.stem
    subprocess.run([*command, str(source), "-o", str(binary)], check=True, timeout=300, capture_output=True)
    return binary


def cxx_runtime_libraries(binary: Path) -> list[str]:
    return [name for name in needed(binary) if name.startswith(("libstdc++", "libgcc_s"))]


def test_a_static_stdlib_swift_program_needs_no_cxx_runtime_library(tmp_path):
    swiftc = require_tool("swiftc", "the Swift toolchain links the probe")
    binary = link(tmp_path, "probe.swift",
                  "enum ProbeError: Error { case odd(Int) }\n"
                  "func check(_ value: Int) throws -> Int { if value % 2 == 1 { throw ProbeError.odd(value) }; return value }\n"
                  "var seen: [String: Int] = [:]\n"
                  "for word in CommandLine.arguments.dropFirst() { seen[word, default: 0] += 1 }\n"
                  "do { _ = try check(seen.count) } catch { print(\"caught \\(error)\") }\n"
                  "print(seen.keys.sorted().joined(separator: \",\"))\n",
                  [swiftc, "-O", "-static-stdlib", *release_flags()])
    assert cxx_runtime_libraries(binary) == [], needed(binary)
    assert "libc.so.6" in needed(binary)
    run = subprocess.run([binary, "b", "a", "c"], capture_output=True, text=True, timeout=30, check=True)
    assert run.stdout == "caught odd(3)\na,b,c\n", run.stdout


def test_without_the_linker_script_the_same_link_loads_libstdcxx(tmp_path):
    """The control: the same kind of program and flags minus packaging/link need libstdc++.so.6,
    so the test above proves the script, not a toolchain that never needed it."""
    swiftc = require_tool("swiftc", "the Swift toolchain links the probe")
    flags = [flag for flag in release_flags() if flag != f"-L{LINK_DIR}"]
    binary = link(tmp_path, "probe.swift", "print(CommandLine.arguments.count)\n", [swiftc, "-O", "-static-stdlib", *flags])
    assert "libstdc++.so.6" in needed(binary)


def test_cxx_exceptions_unwind_through_the_linked_in_runtime(tmp_path):
    """libgcc's unwinder comes from libgcc_eh.a: a C++ throw through the same link options works."""
    compiler = require_tool("g++", "g++ (libstdc++.a) is what the release link takes the C++ runtime from")
    binary = link(tmp_path, "throw.cpp",
                  "#include <stdexcept>\n#include <cstdio>\n"
                  "static void deep(int n) { if (n == 0) throw std::runtime_error(\"bottom\"); deep(n - 1); }\n"
                  "int main() { try { deep(20); } catch (const std::exception &e) { std::printf(\"%s\\n\", e.what()); } return 0; }\n",
                  [compiler, f"-L{LINK_DIR}", "-static-libgcc"])
    assert cxx_runtime_libraries(binary) == [], needed(binary)
    run = subprocess.run([binary], capture_output=True, text=True, timeout=30, check=True)
    assert run.stdout == "bottom\n"
