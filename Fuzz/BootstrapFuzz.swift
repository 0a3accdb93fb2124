@testable import CoAP
@testable import LwM2M

// libFuzzer target for what a bootstrap server can send (Sources/LwM2M/Client): a sequence of
// CoAP requests answered by `BootstrapResponder`, then the Bootstrap-Finish consistency check,
// then the state file of the result (ConfigurationSnapshot encode/decode).
//
// Built and run by scripts/fuzz.sh (target bootstrap). Input: chunks of [length byte][CoAP
// message bytes]; every chunk that decodes as a request is handled in order against one
// registry holding the Security, Server and Access Control objects and a Device object.
//
// Properties checked for every input:
//   * nothing traps; every request gets a response or the Finish outcome;
//   * a Bootstrap-Delete never removes an instance that is a bootstrap-server account (/0/x/1
//     true) when it arrives; a Bootstrap-Write may turn the account into a management account
//     (the 1NCE layout), after which a Delete of "/" has no account to keep and Finish refuses a
//     configuration without one (BootstrapAccountOverwriteTests);
//   * the Security object never yields its Secret Key (/0/x/5) to a read;
//   * the consistency check terminates with a verdict;
//   * the configuration's state file decodes back to the same snapshot.

private let definitions: [UInt16: ObjectDefinition] = [0: OMAObjects.definition(0)!, 1: OMAObjects.definition(1)!]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBootstrap(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let security = ProvisionedObject(definition: definitions[0]!, secretResources: [5])
    let servers = ProvisionedObject(definition: definitions[1]!)
    let access = ProvisionedObject(definition: OMAObjects.definition(2)!)
    let registry = ObjectRegistry()
    registry.register(security)
    registry.register(servers)
    registry.register(access)
    registry.register(DeviceSnapshot.make(info: DeviceInfo(manufacturer: "fuzz", modelNumber: "fuzz", serialNumber: "1",
    firmwareVersion: "1", deviceType: "fuzz", hardwareVersion: "1", softwareVersion: "1", powerSources: [0],
    powerSourceVoltages: [5000], batteryLevel: 100, memoryFree: 1, memoryTotal: 2), currentTime: 0, reboot: {}))
    try! security.bootstrapWrite(instance: 0, records: [
        LwM2MRecord(LwM2MPath(0, 0, 0), .string("coap://bs")), LwM2MRecord(LwM2MPath(0, 0, 1), .boolean(true)),
        LwM2MRecord(LwM2MPath(0, 0, 2), .integer(3)),
    ])
    let responder = BootstrapResponder(security: security, configurationObjects: [0: security, 1: servers, 2: access])

    var offset = 0
    while offset < input.count {
        let length = Int(input[offset])
        offset += 1
        let end = min(input.count, offset + length)
        let chunk = Array(input[offset..<end])
        offset = end
        guard let message = try? CoAPMessage(decoding: chunk), message.code.isRequest else { continue }
        let accounts = security.instanceIDs.filter { SecurityAccount(instance: $0, object: security).isBootstrap }
        switch responder.handle(message, registry: registry) {
        case .respond(let response): _ = response.code
        case .writeSecrets(let write):
            // What the client does once the outer layer stored the secrets (stores succeed here).
            for instance in write.instances {
                guard let prepared = try? security.prepareBootstrapWrite(instance: instance.id, records: instance.records)
                else { break }
                security.commit(prepared)
            }
        case .finish:
            do {
                try BootstrapConsistencyCheck().check(security: security.snapshot(), server: servers.snapshot())
            } catch {
                _ = error.description
            }
        }
        if message.code == .delete, !accounts.allSatisfy(security.instanceIDs.contains) {
            fatalError("a Bootstrap-Delete removed a bootstrap-server account")
        }
    }
    for instance in security.instanceIDs {
        if (try? security.read(LwM2MPath(0, instance, 5))) != nil { fatalError("a secret key was readable") }
    }
    let snapshot = ConfigurationSnapshot(objects: [0: security.snapshot(), 1: servers.snapshot(), 2: access.snapshot()])
    guard let decoded = try? ConfigurationSnapshot(decoding: snapshot.encoded()) else {
        fatalError("the state file of a bootstrapped configuration does not decode")
    }
    guard decoded == snapshot else { fatalError("state file round trip changed the configuration") }
    return 0
}
