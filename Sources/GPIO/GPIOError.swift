/// Why a GPIO chip or line could not be used (contract for issue 13; the GPIO layer fills it in).
public enum GPIOError: Error, Equatable, Sendable {
    /// No chip with that label, name (gpiochipN) or path.
    case chipNotFound(String)
}
