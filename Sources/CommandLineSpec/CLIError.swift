/// A usage error or a failure reported to the user: printed to stderr, exit status 2 for usage (with the command's
/// usage line) or 1 for a failure, 130 when interrupted.
public struct CLIError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public var exitCode: Int32

    public init(_ message: String, exitCode: Int32 = 2) {
        description = message
        self.exitCode = exitCode
    }
}
