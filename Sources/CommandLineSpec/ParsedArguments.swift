/// A command line parsed against its command's option table: positional arguments, flags and checked values.
/// Reading an option the table does not declare is a programming error (it traps, naming the option).
public struct ParsedArguments: Sendable {
    public let spec: CommandSpec
    public internal(set) var positional: [String] = []
    var flags: Set<String> = []
    var given: [String: (text: String, value: OptionValue)] = [:]

    init(spec: CommandSpec) { self.spec = spec }

    private func declared(_ name: String) -> Option {
        guard let o = spec.option(name) else { preconditionFailure("reptune \(spec.name) declares no option --\(name)") }
        return o
    }

    /// The option's value as given, else its default (already checked: the default is checked like a given value).
    private func value(_ name: String) -> OptionValue? {
        let o = declared(name)
        if let v = given[name] { return v.value }
        guard let d = o.defaultValue else { return nil }
        do { return try o.value(of: d) } catch { preconditionFailure("the default of --\(name): \(error)") }
    }

    /// Whether a flag is present.
    public func flag(_ name: String) -> Bool {
        precondition(!declared(name).takesValue, "--\(name) is not a flag")
        return flags.contains(name)
    }

    /// Whether the option was written on the command line (not only defaulted).
    public func isGiven(_ name: String) -> Bool {
        _ = declared(name)
        return given[name] != nil || flags.contains(name)
    }

    /// `--json`, for a command that offers it.
    public var json: Bool { spec.takesJSON && flags.contains("json") }

    /// The text of a text, path or choice option (given or default).
    public func string(_ name: String) -> String? {
        switch value(name) {
        case .text(let s)?: s
        case nil: nil
        default: given[name]?.text ?? declared(name).defaultValue
        }
    }

    public func int(_ name: String) -> Int? {
        if case .integer(let n)? = value(name) { return n }
        return nil
    }

    public func ints(_ name: String) -> [Int]? {
        if case .integers(let list)? = value(name) { return list }
        return nil
    }

    public func double(_ name: String) -> Double? {
        if case .number(let x)? = value(name) { return x }
        return nil
    }

    /// A number option as fp32 (its range is within fp32's).
    public func float(_ name: String) -> Float? { double(name).map(Float.init) }

    /// The words of a `choices` option.
    public func words(_ name: String) -> [String]? {
        if case .words(let w)? = value(name) { return w }
        return nil
    }
}
