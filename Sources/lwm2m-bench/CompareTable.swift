import LwM2M

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
        func number(_ value: Double?) -> JSONValue {
            guard let value, value.isFinite, let literal = JSONNumber(literal: "\(value)") else { return .null }
            return .number(literal)
        }
        let items: [JSONValue] = rows.map { row in
            .object([
                ("key", .string(row.key)), ("metric", .string(row.metric)), ("unit", .string(row.unit)),
                ("baseline_name", row.baselineName.map { .string($0) } ?? .null), ("baseline", number(row.baseline)),
                ("agent", number(row.agent)), ("ratio", number(row.ratio)), ("goal", .string(row.goalText)),
                ("met", row.met.map { .bool($0) } ?? .null),
            ])
        }
        return JSONWriter.string(.object(context.map { ($0.0, JSONValue.string($0.1)) } + [("rows", .array(items))]))
    }
}
