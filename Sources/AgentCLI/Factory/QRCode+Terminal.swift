import AgentCommon
import AgentDaemon
extension QRCode {
    /// The symbol as text for a terminal: two module rows per line with Unicode half blocks and
    /// a four-module quiet zone. With `ansi`, black on a white background (scannable from a
    /// dark terminal too); without, the block characters stand for dark modules.
    public func terminalText(ansi: Bool) -> String {
        let quiet = 4
        let width = size + 2 * quiet
        func dark(_ x: Int, _ y: Int) -> Bool {
            let (column, row) = (x - quiet, y - quiet)
            guard (0..<size).contains(column), (0..<size).contains(row) else { return false }
            return modules[row][column]
        }
        var text = ""
        for y in stride(from: 0, to: width, by: 2) {
            if ansi { text += "\u{1B}[30;107m" }
            for x in 0..<width {
                switch (dark(x, y), y + 1 < width && dark(x, y + 1)) {
                case (true, true): text += "█"
                case (true, false): text += "▀"
                case (false, true): text += "▄"
                case (false, false): text += " "
                }
            }
            if ansi { text += "\u{1B}[0m" }
            text += "\n"
        }
        return text
    }
}
