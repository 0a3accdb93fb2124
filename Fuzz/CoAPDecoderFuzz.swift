@testable import CoAP

// libFuzzer target for the CoAP message codec (Sources/CoAP).
//
// Built by scripts/fuzz.sh, which compiles the CoAP module's sources into an instrumented library
// library imported here with @testable:
//
//     scripts/fuzz.sh coap-decoder 60
//
// Properties checked for every input:
//   * decoding never traps (ASan also catches out-of-bounds reads of the input buffer);
//   * both decoding entry points ([UInt8] and raw memory) agree, and the peeked header matches;
//   * a decoded message re-encodes without error, byte for byte to the input (the wire format
//     has exactly one encoding per message, so the codec must be canonical), and decodes again
//     to an equal message;
//   * the option accessors used by the endpoint never trap on decoded input.
// (Descriptions are left out on purpose: string formatting halved the exec/s under ASan.)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let header = MessageHeader(peeking: input)
    if size >= 4, header == nil { fatalError("MessageHeader(peeking:) failed on \(size) bytes") }

    let message: CoAPMessage
    do {
        message = try CoAPMessage(decoding: input)
    } catch {
        // The array entry point must reject the same input with the same error.
        do {
            _ = try CoAPMessage(decoding: Array(input))
            fatalError("raw-memory decoder threw \(error), array decoder accepted")
        } catch let arrayError {
            if arrayError != error { fatalError("decoders disagree: \(error) vs \(arrayError)") }
        }
        return 0
    }

    guard let header, header.type == message.type, header.code == message.code,
          header.messageID == message.messageID, Int(header.tokenLength) == message.token.count
    else { fatalError("peeked header disagrees with decoded message \(message)") }
    guard (try? CoAPMessage(decoding: Array(input))) == message else {
        fatalError("array decoder disagrees with raw-memory decoder")
    }

    let encoded: [UInt8]
    do {
        encoded = try message.encoded()
    } catch {
        fatalError("decoded message does not re-encode: \(error)")
    }
    guard encoded.elementsEqual(input) else {
        fatalError("re-encoding differs from the input: \(size) bytes in, \(encoded.count) out")
    }
    let again: CoAPMessage
    do {
        again = try CoAPMessage(decoding: encoded)
    } catch {
        fatalError("re-encoded message does not decode: \(error)")
    }
    guard again == message else { fatalError("round trip changed the message: \(message) -> \(again)") }

    // Accessors must be total on anything the decoder accepts.
    _ = message.uriPath
    _ = message.uriQuery
    _ = message.locationPath
    _ = message.contentFormat
    _ = message.accept
    _ = message.observe
    _ = message.block1
    _ = message.block2
    _ = message.size1
    _ = message.size2
    _ = message.maxAge
    _ = message.eTag
    return 0
}
