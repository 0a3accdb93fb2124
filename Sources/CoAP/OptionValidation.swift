/// The outcome of checking a received message's options (RFC 7252 §5.4.1, §5.4.3, §5.4.5).
enum OptionCheck: Equatable {
    case acceptable
    /// A critical option we do not recognise, repeated where it may not be, or of a bad length.
    case badCriticalOption(OptionNumber)
    /// Proxy-Uri / Proxy-Scheme: we are not a proxy (→ 5.05).
    case proxyRequested
}

extension CoAPMessage {
    /// Checks every option. Unrecognised *elective* options are ignored as the RFC requires;
    /// a known option with an out-of-range length, or a second instance of a non-repeatable
    /// option, counts as unrecognised. A Block option with the reserved SZX 7 is a bad option.
    func checkOptions() -> OptionCheck {
        var previous: OptionNumber? = nil
        for option in options {
            let number = option.number
            defer { previous = number }
            guard let definition = number.definition else {
                if number.isCritical { return .badCriticalOption(number) }
                continue
            }
            let valid = definition.lengths.contains(option.value.count)
                && (definition.isRepeatable || previous != number)
                && (number != .block1 && number != .block2 || option.uintValue.flatMap(BlockValue.init(rawValue:)) != nil)
            if !valid, number.isCritical { return .badCriticalOption(number) }
            if number == .proxyURI || number == .proxyScheme { return .proxyRequested }
        }
        return .acceptable
    }
}
