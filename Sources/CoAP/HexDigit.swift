/// Hexadecimal digits, as URIs (percent-encoding), configuration files (keys) and state files
/// write them.
public enum HexDigit {
    /// The value of one ASCII hex digit (`0`-`9`, `a`-`f`, `A`-`F`); nil for anything else.
    public static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
