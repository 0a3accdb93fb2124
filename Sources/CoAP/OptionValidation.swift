/// The outcome of checking a received message's options (RFC 7252 §5.4.1, §5.4.3, §5.4.5).
enum OptionCheck: Equatable {
    case acceptable
    /// A critical option we do not recognise or support, repeated where it may not be, or of a
    /// bad length (→ 4.02 for a CON request).
    case badCriticalOption(OptionNumber)
    /// A Block1/Block2 option with the reserved SZX 7 (RFC 7959 §2.2: → 4.00).
    case reservedBlockSize(OptionNumber)
    /// Proxy-Uri / Proxy-Scheme: we are not a proxy (→ 5.05).
    case proxyRequested
}

extension CoAPMessage {
    /// Checks every option. Unrecognised *elective* options are ignored as the RFC requires;
    /// a known option with an out-of-range length, or a second instance of a non-repeatable
    /// option, counts as unrecognised. If-Match and If-None-Match count as unrecognised unless
    /// `conditionalRequests` says the application evaluates them (§5.10.8).
    func checkOptions(conditionalRequests: Bool = false) -> OptionCheck {
        var previous: OptionNumber? = nil
        for option in options {
            let number = option.number
            defer { previous = number }
            guard let definition = number.definition,
                  conditionalRequests || (number != .ifMatch && number != .ifNoneMatch) else {
                if number.isCritical { return .badCriticalOption(number) }
                continue
            }
            let valid = definition.lengths.contains(option.value.count)
                && (definition.isRepeatable || previous != number)
            if !valid, number.isCritical { return .badCriticalOption(number) }
            if number == .block1 || number == .block2, option.uintValue.map({ $0 & 7 == 7 }) == true {
                return .reservedBlockSize(number)
            }
            if number == .proxyURI || number == .proxyScheme { return .proxyRequested }
        }
        return .acceptable
    }
}
