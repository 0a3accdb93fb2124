/// One line of the `lwm2m-bench compare` table: a metric, the C baseline measured in the same
/// run (if the issue names one), the agent's figure, and the goal it is judged by.
struct CompareRow {
    /// How a row's figure is judged.
    enum Goal {
        /// agent ÷ baseline at most this.
        case ratioAtMost(Double)
        /// The agent's figure at most this (in the row's unit).
        case atMost(Double)
        /// The agent's figure at least this.
        case atLeast(Double)
        /// Reported only.
        case none
    }

    let key: String
    let metric: String
    let unit: String
    let baselineName: String?
    let baseline: Double?
    let agent: Double?
    let goal: Goal
    /// Decimals printed.
    var decimals = 2

    var ratio: Double? {
        guard let baseline, let agent, baseline > 0 else { return nil }
        return agent / baseline
    }

    var met: Bool? {
        switch goal {
        case .ratioAtMost(let limit): return ratio.map { $0 <= limit }
        case .atMost(let limit): return agent.map { $0 <= limit }
        case .atLeast(let limit): return agent.map { $0 >= limit }
        case .none: return nil
        }
    }

    var goalText: String {
        switch goal {
        case .ratioAtMost(let limit): return "≤ \(CompareTable.number(limit, 2))×"
        case .atMost(let limit): return "≤ \(CompareTable.number(limit, decimals))" + (unit.isEmpty ? "" : " " + unit)
        case .atLeast(let limit): return "≥ \(CompareTable.number(limit, decimals))" + (unit.isEmpty ? "" : " " + unit)
        case .none: return "—"
        }
    }
}

/// Printing the table, as Markdown or JSON.
enum CompareTable {
    static func number(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "nan" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        if decimals == 0 { return String(Int64(rounded)) }
        let whole = Int64(rounded.magnitude)
        var fraction = String(Int64(((rounded.magnitude - Double(whole)) * scale).rounded()))
        while fraction.count < decimals { fraction = "0" + fraction }
        return (rounded < 0 ? "-" : "") + "\(whole).\(fraction)"
    }

    static func markdown(_ rows: [CompareRow]) -> String {
        var lines = ["| metric | baseline | agent | ratio | goal | met? |", "|---|---|---|---|---|---|"]
        for row in rows {
            let unit = row.unit.isEmpty ? "" : " " + row.unit
            let baseline = row.baseline.map { "\(number($0, row.decimals))\(unit)" + (row.baselineName.map { " (\($0))" } ?? "") } ?? "—"
            let agent = row.agent.map { "\(number($0, row.decimals))\(unit)" } ?? "n/a"
            let ratio = row.ratio.map { "\(number($0, 2))×" } ?? "—"
            let met = row.met.map { $0 ? "yes" : "**no**" } ?? "—"
            lines.append("| \(row.metric) | \(baseline) | \(agent) | \(ratio) | \(row.goalText) | \(met) |")
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ rows: [CompareRow], context: [(String, String)]) -> String {
        func string(_ text: String) -> String {
            var escaped = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case "\n": escaped += "\\n"
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        escaped += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        escaped.unicodeScalars.append(scalar)
                    }
                }
            }
            return escaped + "\""
        }
        func value(_ number: Double?) -> String {
            guard let number, number.isFinite else { return "null" }
            return "\(number)"
        }
        var items: [String] = []
        for row in rows {
            let fields = [
                "\"key\": \(string(row.key))", "\"metric\": \(string(row.metric))", "\"unit\": \(string(row.unit))",
                "\"baseline_name\": \(row.baselineName.map(string) ?? "null")", "\"baseline\": \(value(row.baseline))",
                "\"agent\": \(value(row.agent))", "\"ratio\": \(value(row.ratio))", "\"goal\": \(string(row.goalText))",
                "\"met\": \(row.met.map { $0 ? "true" : "false" } ?? "null")",
            ]
            items.append("    {" + fields.joined(separator: ", ") + "}")
        }
        let header = context.map { "  \(string($0.0)): \(string($0.1))," }.joined(separator: "\n")
        return "{\n\(header)\n  \"rows\": [\n" + items.joined(separator: ",\n") + "\n  ]\n}"
    }
}
