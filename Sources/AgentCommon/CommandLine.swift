/// A small command-line parser: `--name value`, `--name=value`, boolean `--flag`, and
/// positional arguments. Kept here instead of a dependency to keep the binaries small.
public struct ParsedArguments: Sendable {
    public private(set) var positional: [String] = []
    private var values: [String: [String]] = [:]
    private var flags: Set<String> = []

    /// Parses `arguments` (without the program name). `valueOptions` take a value; `flagOptions`
    /// don't. Anything else starting with "--" is a usage error.
    public init(_ arguments: [String], valueOptions: Set<String>, flagOptions: Set<String>) throws(UsageError) {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                positional.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String? = nil
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if flagOptions.contains(name), inlineValue == nil {
                flags.insert(name)
            } else if valueOptions.contains(name) {
                if let inlineValue {
                    values[name, default: []].append(inlineValue)
                } else {
                    guard index < arguments.count else { throw .missingValue(name) }
                    values[name, default: []].append(arguments[index])
                    index += 1
                }
            } else {
                throw .unknownOption(name)
            }
        }
    }

    public func flag(_ name: String) -> Bool { flags.contains(name) }
    public func value(_ name: String) -> String? { values[name]?.last }
    public func allValues(_ name: String) -> [String] { values[name] ?? [] }

    /// An integer option within `range`, or `defaultValue` when absent.
    public func integer(_ name: String, in range: ClosedRange<Int>, default defaultValue: Int) throws(UsageError) -> Int {
        guard let text = value(name) else { return defaultValue }
        guard let number = Int(text), range.contains(number) else {
            throw .invalidValue(name, text, "expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// A duration option in (possibly fractional) seconds, or `defaultValue` when absent.
    public func seconds(_ name: String, default defaultValue: Duration?) throws(UsageError) -> Duration? {
        guard let text = value(name) else { return defaultValue }
        guard let number = Double(text), number >= 0, number < 1e9 else {
            throw .invalidValue(name, text, "expected a number of seconds")
        }
        return .milliseconds(Int64(number * 1000))
    }
}

/// A command-line mistake, reported with the usage text and exit status 2.
public enum UsageError: Error, Equatable, CustomStringConvertible {
    case unknownOption(String)
    case missingValue(String)
    case invalidValue(String, String, String)
    case missingArgument(String)
    case unexpectedArgument(String)

    public var description: String {
        switch self {
        case .unknownOption(let name): "unknown option --\(name)"
        case .missingValue(let name): "option --\(name) needs a value"
        case .invalidValue(let name, let value, let why): "invalid value \"\(value)\" for --\(name): \(why)"
        case .missingArgument(let what): "missing \(what)"
        case .unexpectedArgument(let argument): "unexpected argument \"\(argument)\""
        }
    }
}
