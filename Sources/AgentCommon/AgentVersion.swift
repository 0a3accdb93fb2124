/// The agent's version, printed by `--version` and sent nowhere else.
public enum AgentVersion {
    public static let string = "0.1.0"
}
