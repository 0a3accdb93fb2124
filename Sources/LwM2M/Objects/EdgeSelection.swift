/// Which transitions of a Digital Input's State (3200/x/5500) its Counter (5501) counts: the
/// Digital Input Edge Selection resource (5504). The State itself is reported on every
/// transition whatever this says.
public enum EdgeSelection: Int, Sendable {
    /// true → false transitions of the State.
    case falling = 1
    /// false → true transitions of the State (the default: the Counter is "the cumulative value
    /// of active state detected", OMA 3200.xml).
    case rising = 2
    /// Every transition.
    case both = 3

    /// Whether a transition of the State to `state` is counted.
    public func counts(transitionTo state: Bool) -> Bool {
        switch self {
        case .falling: !state
        case .rising: state
        case .both: true
        }
    }
}
