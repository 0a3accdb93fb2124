import Files
import Firmware
import Glibc
import TestSupport
import Testing

/// The real rauc (Debian's 1.8) end to end on this machine: a bundle made by `rauc bundle` with a
/// keyring made by openssl, a `rauc service` on a private system bus (dbus-daemon) with two
/// file-backed raw slots and a custom bootloader backend (a script keeping the primary slot and
/// the slots' good/bad states in files), the "reboot" simulated by restarting the service with
/// `--override-boot-slot`. Plain bundles (loop-mounted squashfs): verity bundles need
/// device-mapper, which this container lacks.
final class RaucRig {
    let scratch: TemporaryDirectory
    var bus: ChildProcess?
    var service: ChildProcess?
    var busAddress: String { "unix:path=\(scratch.file("bus"))" }
    /// rauc as the installer runs it: through env(1) to point it at the private bus (no shell).
    var command: [String] { ["env", "DBUS_SYSTEM_BUS_ADDRESS=\(busAddress)", "rauc"] }
    let rootfs = testBytes(count: 1 << 20, seed: 77)

    init() throws {
        scratch = try TemporaryDirectory(prefix: "rauc")
        let dir = scratch.path
        for (name, subject) in [("vendor", "/CN=lwm2m test bundle signer"), ("stranger", "/CN=stranger")] {
            try run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", file("\(name).key"), "-out", file("\(name).pem"), "-days", "30", "-subj", subject])
        }
        try writeFile(file("content/rootfs.img"), rootfs)
        try writeFile(file("content/manifest.raucm"), Array("""
            [update]
            compatible=lwm2m-test
            version=2.1.0

            [bundle]
            format=plain

            [image.rootfs]
            filename=rootfs.img

            """.utf8))
        try run(["rauc", "bundle", "--cert=\(file("vendor.pem"))", "--key=\(file("vendor.key"))", file("content"), file("update.raucb")])
        try run(["rauc", "bundle", "--cert=\(file("stranger.pem"))", "--key=\(file("stranger.key"))", file("content"), file("stranger.raucb")])
        for slot in ["a", "b"] { try writeFile(file("slot-\(slot).img"), [UInt8](repeating: 0, count: 2 << 20)) }
        try Directory.create(file("mnt"))
        try Directory.create(file("data"))
        try writeFile(file("bootloader.sh"), Array("""
            #!/bin/sh
            # RAUC custom bootloader backend: state in files.
            case "$1" in
            get-primary) cat \(dir)/primary 2>/dev/null || echo A ;;
            set-primary) echo "$2" > \(dir)/primary ;;
            get-state) cat \(dir)/state-$2 2>/dev/null || echo good ;;
            set-state) echo "$3" > \(dir)/state-$2 ;;
            *) exit 1 ;;
            esac

            """.utf8))
        #expect(chmod(file("bootloader.sh"), 0o755) == 0)
        try writeFile(file("system.conf"), Array("""
            [system]
            compatible=lwm2m-test
            bootloader=custom
            mountprefix=\(dir)/mnt
            data-directory=\(dir)/data

            [handlers]
            bootloader-custom-backend=\(dir)/bootloader.sh

            [keyring]
            path=\(dir)/vendor.pem

            [slot.rootfs.0]
            device=\(dir)/slot-a.img
            type=raw
            bootname=A

            [slot.rootfs.1]
            device=\(dir)/slot-b.img
            type=raw
            bootname=B

            """.utf8))
        try writeFile(file("bus.conf"), Array("""
            <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
            <busconfig>
              <type>system</type>
              <listen>\(busAddress)</listen>
              <auth>EXTERNAL</auth>
              <policy context="default">
                <allow user="*"/><allow own="*"/><allow send_type="method_call"/>
                <allow send_destination="*"/><allow receive_sender="*"/>
              </policy>
            </busconfig>

            """.utf8))
        bus = try ChildProcess(["dbus-daemon", "--config-file=\(file("bus.conf"))", "--nofork"], logPath: file("bus.log"))
        try waitUntil("the private bus") { FileReader.exists(self.file("bus")) }
    }

    func file(_ name: String) -> String { scratch.file(name) }

    func run(_ arguments: [String]) throws {
        let result = try ChildProcess.run(arguments)
        guard result.succeeded else { throw TestFailure("\(arguments.joined(separator: " ")): \(result.text)") }
    }

    /// (Re)starts rauc service as if the bootloader had booted slot `booted`.
    func boot(_ booted: String) throws {
        service?.stop()
        service = try ChildProcess(command + ["service", "--conf=\(file("system.conf"))", "--override-boot-slot=\(booted)"],
                                   logPath: file("service-\(booted).log"))
        try waitUntil("rauc service") {
            (try? ChildProcess.run(self.command + ["status", "--output-format=shell"]))?.text.contains("BOOTED_BOOTNAME='\(booted)'") == true
        }
    }

    func waitUntil(_ what: String, _ condition: () -> Bool) throws {
        for _ in 0..<200 {
            if condition() { return }
            usleep(25_000)
        }
        throw TestFailure("\(what) did not come up")
    }

    deinit {
        service?.stop()
        bus?.stop()
    }
}

private var raucRuns: Bool {
    toolOnPath("rauc") && toolOnPath("mksquashfs") && toolOnPath("dbus-daemon") && getuid() == 0
        && access("/dev/loop-control", F_OK) == 0
}

@Suite(.serialized) struct RaucEndToEndTests {
    @Test(requires(raucRuns, "needs rauc, squashfs-tools, dbus-daemon, root and loop devices (scripts/setup.sh)"))
    func bundleInfoWithTheTestKeyring() throws {
        let rig = try RaucRig()
        let info = try ChildProcess.run(["rauc", "info", "--keyring=\(rig.file("vendor.pem"))", rig.file("update.raucb")])
        #expect(info.succeeded, "\(info.text)")
        #expect(info.text.contains("Compatible: \t'lwm2m-test'"))
        #expect(info.text.contains("Version:    \t'2.1.0'"))
        let stranger = try ChildProcess.run(["rauc", "info", "--keyring=\(rig.file("vendor.pem"))", rig.file("stranger.raucb")])
        #expect(!stranger.succeeded)
        #expect(stranger.text.contains("signature verification failed"))
    }

    @Test(requires(raucRuns, "needs rauc, squashfs-tools, dbus-daemon, root and loop devices (scripts/setup.sh)"))
    func installRebootConfirmAndMarkGood() throws {
        let rig = try RaucRig()
        try rig.boot("A")
        let installer = RaucInstaller(command: rig.command, process: InstallerProcess(timeout: .seconds(120)))
        let outcome = installer.install(image: rig.file("update.raucb"), version: "2.1.0")
        #expect(outcome == .installed(rebootRequired: true, record: "B"), "\(rig.file("service-A.log"))")
        #expect(Array(try readFile(rig.file("slot-b.img")).prefix(rig.rootfs.count)) == rig.rootfs)
        #expect(try readTextFile(rig.file("primary")) == "B\n")
        // The reboot: the bootloader starts slot B; the agent confirms and marks it good.
        try rig.boot("B")
        #expect(installer.confirm(version: "2.1.0", record: "B") == .installed(rebootRequired: false, record: "B"))
        #expect(try readTextFile(rig.file("state-B")) == "good\n")
    }

    @Test(requires(raucRuns, "needs rauc, squashfs-tools, dbus-daemon, root and loop devices (scripts/setup.sh)"))
    func aFallbackAndABadSignatureAreFailures() throws {
        let rig = try RaucRig()
        try rig.boot("A")
        let installer = RaucInstaller(command: rig.command, process: InstallerProcess(timeout: .seconds(120)))
        guard case .failed(let failure, let detail) = installer.install(image: rig.file("stranger.raucb"), version: "2.1.0") else {
            Issue.record("a bundle signed by a stranger was installed")
            return
        }
        #expect(failure == .integrityFailure, "\(detail)")
        #expect(!FileReader.exists(rig.file("primary")))
        #expect(installer.install(image: rig.file("update.raucb"), version: "2.1.0") == .installed(rebootRequired: true, record: "B"))
        // The new slot did not come up: the bootloader fell back to A.
        try rig.boot("A")
        let stateOfB = try? readTextFile(rig.file("state-B"))  // what the install left
        let confirmed = installer.confirm(version: "2.1.0", record: "B")
        #expect(confirmed == .failed(.updateFailed, detail: "booted slot A, not the installed B: the bootloader fell back"))
        #expect((try? readTextFile(rig.file("state-B"))) == stateOfB)  // not marked good
    }
}
