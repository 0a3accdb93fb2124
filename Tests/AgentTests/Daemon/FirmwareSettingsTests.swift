import AgentCommon
@testable import AgentDaemon
import Firmware
import Glibc
import LwM2M
import Testing

private let environment = EndpointNameTemplate.Environment(
    machineID: { "0123abcd" }, hostname: { "gw-host" }, readFile: { _ in nil })

private func parse(_ firmware: String) throws(ConfigFileError) -> FirmwareSettings {
    let text = """
        [agent]
        endpoint-name = gw-1
        state-dir = /tmp/unused

        [server 1]
        uri = coap://127.0.0.1:5683

        """ + firmware
    return try AgentConfiguration(parsing: text, environment: environment).firmware
}

private func refusal(_ firmware: String) -> String? {
    do {
        _ = try parse(firmware)
        return nil
    } catch {
        return error.description
    }
}

@Suite("[firmware] section")
struct FirmwareSettingsTests {
    @Test("defaults without a section: enabled, 512 MiB, 1 MiB reserve, no installer, no signatures")
    func defaults() throws {
        let settings = try parse("")
        #expect(settings == FirmwareSettings())
        #expect(settings.enabled && settings.maximumSize == 512 << 20 && settings.reserve == 1 << 20)
        #expect(settings.installer == nil && !settings.requireSignature)
    }

    @Test("every key read")
    func everything() throws {
        let settings = try parse("""
            [firmware]
            enabled = yes
            maximum-size = 64M
            reserve = 512K
            installer = swupdate
            swupdate-options = -k /etc/vendor.pem -H board:1
            swupdate-reboot = no
            confirm-hook = /usr/libexec/confirm
            installer-timeout = 600
            confirm-retry = 5
            require-signature = yes
            vendor-key = /etc/lwm2m-agent/vendor.pub
            board-name = rpi4-gateway
            http-ca = /etc/ssl/updates-ca.pem
            """)
        #expect(settings.maximumSize == 64 << 20 && settings.reserve == 512 << 10)
        #expect(settings.installer == .swupdate(command: ["swupdate", "-k", "/etc/vendor.pem", "-H", "board:1"],
                                                rebootRequired: false, confirmHook: "/usr/libexec/confirm"))
        #expect(settings.installerTimeout == .seconds(600))
        #expect(settings.confirmRetry == .seconds(5))
        #expect(try parse("[firmware]\nenabled = yes").confirmRetry == .seconds(30))
        #expect(settings.requireSignature && settings.vendorKey == "/etc/lwm2m-agent/vendor.pub")
        #expect(settings.boardName == "rpi4-gateway" && settings.httpCA == "/etc/ssl/updates-ca.pem")
        #expect(try parse("[firmware]\ninstaller = rauc").installer == .rauc(command: ["rauc"]))
        #expect(try parse("[firmware]\ninstaller = script\nscript = /usr/bin/hook").installer == .script(path: "/usr/bin/hook"))
        #expect(try parse("[firmware]\nenabled = no").enabled == false)
        #expect(try parse("[firmware]\nmaximum-size = 1G").maximumSize == 1 << 30)
    }

    @Test("bad values are configuration errors naming the key and line", arguments: [
        ("enabled = perhaps", "enabled"),
        ("maximum-size = 0", "maximum-size"),
        ("maximum-size = -5", "maximum-size"),
        ("maximum-size = 12T", "maximum-size"),
        ("maximum-size = 99999999999G", "maximum-size"),
        ("reserve = lots", "reserve"),
        ("installer = apt", "installer"),
        ("installer = script", "installer"),
        ("installer = script\nscript = relative/hook", "script"),
        ("script = /usr/bin/hook", "script"),
        ("installer = swupdate\nswupdate-options =", "swupdate-options"),
        ("installer-timeout = 0", "installer-timeout"),
        ("installer-timeout = soon", "installer-timeout"),
        ("confirm-retry = 0.5", "confirm-retry"),
        ("confirm-retry = 7200", "confirm-retry"),
        ("require-signature = yes\nboard-name = b", "require-signature"),
        ("require-signature = yes\nvendor-key = /k.pub", "require-signature"),
        ("board-name = two words", "board-name"),
        ("vendor-key = k.pub", "vendor-key"),
        ("http-ca = ca.pem", "http-ca"),
        ("colour = blue", "unknown key"),
    ])
    func refused(line: String, mentions: String) {
        let message = refusal("[firmware]\n" + line)
        #expect(message != nil, "accepted: \(line)")
        #expect(message?.contains(mentions) == true, "\(message ?? "")")
        // [firmware] is line 7; the message names the line of the offending key (8 or 9).
        #expect(message?.hasPrefix("line 8") == true || message?.hasPrefix("line 9") == true, "\(message ?? "")")
    }

    @Test("two [firmware] sections are refused")
    func twice() {
        #expect(refusal("[firmware]\nenabled = yes\n[firmware]\nenabled = no")?.contains("appears twice") == true)
    }
}

@Suite("firmware wiring")
struct FirmwareWiringTests {
    private func directory() -> String {
        var template = Array("/tmp/fw-wiring-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    @Test("the pull sink reports the finished size after the store completed the image")
    func sinkFinishedSize() throws {
        let state = directory()
        let files = FileFirmwareImageStore(stateDirectory: state, maximumSize: 1 << 20)
        let sink = ImageStoreSink(store: files)
        try sink.reset()
        try [UInt8](repeating: 7, count: 5000).withUnsafeBytes { buffer in try sink.append(buffer) }
        try sink.truncate(to: 4096)
        #expect(sink.size == 4096)
        try sink.finish()
        #expect(sink.size == 4096)
        #expect(sink.image?.size == 4096)
        #expect(files.size == 0)
    }

    @Test("a refused signed package surfaces its Update Result through the pull sink")
    func rejection() throws {
        let state = directory()
        let files = FileFirmwareImageStore(stateDirectory: state, maximumSize: 1 << 20)
        let key = try PackageSigningKey().publicKey()
        let signed = SignedPackageStore(files: files, key: key, board: "b")
        let sink = ImageStoreSink(store: signed)
        try sink.reset()
        #expect(throws: DownloadSinkError.self) {
            try [UInt8](repeating: 0x41, count: 64).withUnsafeBytes { buffer in try sink.append(buffer) }
        }
        #expect(sink.rejection?.updateResult == .unsupportedPackageType)
        guard case .rejected(.unsupportedPackageType, _)? = sink.rejection else {
            Issue.record("rejection: \(String(describing: sink.rejection))")
            return
        }
        #expect(files.size == 0)
    }

    @Test("an abandoned push goes back to Idle with result 4; nothing else is touched")
    func abandoned() throws {
        let state = directory()
        let files = FileFirmwareImageStore(stateDirectory: state, maximumSize: 1 << 20)
        let object = FirmwareUpdateObject(configuration: .init(protocols: [.coap]), store: files)
        let path = LwM2MPath(5, 0, 0)
        try object.receiveBlock(path, offset: 0, bytes: [UInt8](repeating: 1, count: 1024), isLast: false, format: 42)
        #expect(object.state == .downloading)
        #expect(object.streamedResources == [0])
        object.abandonBlocks(LwM2MPath(5, 0, 1))
        #expect(object.state == .downloading)
        object.abandonBlocks(path)
        #expect(object.state == .idle && object.result == .connectionLost)
        #expect(files.size == 0)
        object.abandonBlocks(path)  // again: no change
        #expect(object.result == .connectionLost)
    }

    @Test("setup: a vendor key that is not a key stops the daemon with a clear error")
    func badVendorKey() throws {
        let state = directory()
        let key = state + "/vendor.pub"
        _ = key.withCString { path in
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            defer { close(fd) }
            return write(fd, "not a key\n", 10)
        }
        var settings = FirmwareSettings()
        settings.requireSignature = true
        settings.vendorKey = key
        settings.boardName = "b"
        do {
            _ = try FirmwareSetup.make(settings, stateDirectory: state, log: Logger(component: "test", level: .error))
            Issue.record("accepted a vendor key that is not a key")
        } catch {
            #expect("\(error)".hasPrefix("[firmware] vendor-key \(key): "))
        }
    }

    @Test("setup: the persisted state comes back (Downloaded stays Downloaded); a damaged file means Idle")
    func restores() throws {
        let state = directory()
        let first = try FirmwareSetup.make(FirmwareSettings(), stateDirectory: state,
                                           log: Logger(component: "test", level: .error))
        try first.object.receivePackageBlock(offset: 0, bytes: [1, 2, 3], isLast: true)
        first.step()  // carries out the .persist
        #expect(first.object.state == .downloaded)
        let again = try FirmwareSetup.make(FirmwareSettings(), stateDirectory: state,
                                           log: Logger(component: "test", level: .error))
        #expect(again.object.state == .downloaded)
        #expect(again.object.persistentState.image?.size == 3)
        _ = (state + "/firmware/state").withCString { path in
            let fd = open(path, O_WRONLY | O_TRUNC)
            defer { close(fd) }
            return write(fd, "garbage\n", 8)
        }
        let damaged = try FirmwareSetup.make(FirmwareSettings(), stateDirectory: state,
                                             log: Logger(component: "test", level: .error))
        #expect(damaged.object.state == .idle)
    }
}
