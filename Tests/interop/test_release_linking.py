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


def linker_flags(name: str) -> list[str]:
    """The unsafe linker flags of the LinkerSetting list `name` in Package.swift, with the package
    directory."""
    manifest = (REPO / "Package.swift").read_text()
    block = re.search(r"let %s: \[LinkerSetting\] = \[(.*?)\n\]" % name, manifest, re.S)
    assert block, f"Package.swift has no {name}"
    flags = re.findall(r'"([^"]*)"', block.group(1).split(".when(")[0])
    return [flag.replace(r"\(Context.packageDirectory)", str(REPO)) for flag in flags]


def release_flags() -> list[str]:
    """The flags of Package.swift's releaseLinking (every release executable)."""
    return linker_flags("releaseLinking")


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


def dynamic_symbols(binary: Path) -> int:
    listing = subprocess.run(["readelf", "--dyn-syms", "-W", binary], capture_output=True, text=True, check=True,
                             timeout=30).stdout
    return sum(1 for line in listing.splitlines() if re.match(r"\s*\d+:", line))


def test_release_executables_export_no_symbols_of_their_own(tmp_path):
    """`--no-export-dynamic` after the static runtime's `-export-dynamic`: the dynamic symbol table of
    a probe with 400 functions of its own holds its imports only; the control without the flag
    exports every one of them (the archives' symbols are hidden either way: --exclude-libs ALL)."""
    swiftc = require_tool("swiftc", "the Swift toolchain links the probe")
    text = "".join(f"@inline(never) public func probe{i}(_ x: Int) -> Int {{ x &+ {i} }}\n" for i in range(400))
    text += "print(probe7(CommandLine.arguments.count))\n"
    binary = link(tmp_path, "probe.swift", text, [swiftc, "-O", "-static-stdlib", *release_flags()])
    flags = release_flags()
    at = flags.index("--no-export-dynamic")
    assert flags[at - 1] == "-Xlinker", flags
    control = link(tmp_path, "control.swift", text, [swiftc, "-O", "-static-stdlib", *flags[:at - 1], *flags[at + 1:]])
    assert dynamic_symbols(binary) + 400 <= dynamic_symbols(control), (dynamic_symbols(binary), dynamic_symbols(control))


def test_the_daemon_links_with_its_symbol_order_file():
    """The daemon's release link packs the functions a registered daemon runs (docs/performance.md):
    the flags name packaging/link/lwm2m-agentd.order, which lists mangled names (scripts/symbol-order.sh
    writes it), one a line, sorted, no duplicates, the engine's and the runtime's among them."""
    flags = linker_flags("daemonSymbolOrder")
    order = LINK_DIR / "lwm2m-agentd.order"
    assert f"--symbol-ordering-file={order}" in flags and "--no-warn-symbol-ordering" in flags, flags
    names = order.read_text().splitlines()
    assert len(names) > 1000 and names == sorted(set(names)), len(names)
    assert all(re.fullmatch(r"[$\w.]+", name) for name in names), [n for n in names if not re.fullmatch(r"[$\w.]+", n)][:5]
    assert any(name.startswith("$s4CoAP") for name in names) and any(name.startswith("$s5LwM2M") for name in names)
    assert "swift_retain" in names and "lwm2m_agentd_main" in names


def symbol_addresses(binary: Path, names: list[str]) -> dict[str, str]:
    listing = subprocess.run(["nm", binary], capture_output=True, text=True, check=True, timeout=30).stdout
    return {fields[2]: fields[0] for fields in (line.split() for line in listing.splitlines())
            if len(fields) == 3 and fields[2] in names}


def test_identical_functions_are_folded_into_one(tmp_path):
    """`--icf=all`: two functions with the same code in two files end up at one address (like the
    per-file copies of outlined value operations the daemon's symbol order cannot name); the
    control without the flag keeps both."""
    swiftc = require_tool("swiftc", "the Swift toolchain links the probe")
    # One function a file (the optimiser merges identical functions within a file itself), each in
    # a section of its own as release modules are compiled: folding works on sections.
    (tmp_path / "first.swift").write_text(
        '@_silgen_name("probe_first") @inline(never) func first(_ x: Int) -> Int { x &* 7 &+ 3 }\n')
    (tmp_path / "second.swift").write_text(
        '@_silgen_name("probe_second") @inline(never) func second(_ x: Int) -> Int { x &* 7 &+ 3 }\n')
    (tmp_path / "main.swift").write_text("print(first(CommandLine.arguments.count) &+ second(2))\n")
    sources = [str(tmp_path / name) for name in ("main.swift", "first.swift", "second.swift")]
    flags = release_flags()
    at = flags.index("--icf=all")
    assert flags[at - 1] == "-Xlinker", flags

    def build(name: str, link_flags: list[str]) -> Path:
        binary = tmp_path / name
        subprocess.run([swiftc, "-O", "-static-stdlib", "-Xfrontend", "-function-sections", "-module-name", "probe",
                        *sources, *link_flags, "-o", str(binary)], check=True, timeout=300, capture_output=True)
        return binary

    binary = build("folded", flags)
    control = build("kept", [*flags[:at - 1], *flags[at + 1:]])
    folded = symbol_addresses(binary, ["probe_first", "probe_second"])
    kept = symbol_addresses(control, ["probe_first", "probe_second"])
    assert len(folded) == 2 and folded["probe_first"] == folded["probe_second"], folded
    assert len(kept) == 2 and kept["probe_first"] != kept["probe_second"], kept
    run = subprocess.run([binary], capture_output=True, text=True, timeout=30, check=True)
    assert run.stdout == "27\n", run.stdout
