/// The type of one stage parameter. Drives validation, normalisation, the docs and the JSON Schema.
public indirect enum ParamType: Sendable {
    /// A whole number, optionally bounded (inclusive).
    case integer(min: Int? = nil, max: Int? = nil)
    /// Any number, optionally bounded (inclusive), held exactly.
    case number(min: Double? = nil, max: Double? = nil)
    case string
    case boolean
    /// One of a fixed set of strings.
    case choice([String])
    /// A non-empty array of `element`. Integer lists also accept `{"range": [lo, hi, step]}`.
    case list(ParamType)
    /// Token positions counted from the end of the prompt: `"last"` (= 0), an offset ≤ 0, or an array of those.
    /// Normalised to an array of integers.
    case positions
    /// A dataset declared in the manifest's `datasets`, optionally with a split: `"facts"` or `"facts:train"`.
    case dataset
    /// A JSON object with these named fields (each checked as a parameter is: type, presence, default; no other
    /// keys), called `name` in docs and errors — a steering term `{"vector", "layers", "positions", "multiplier"}`.
    case record(name: String, fields: [ParamSpec])

    /// Human-readable expectation used in error messages and docs.
    public var expected: String {
        switch self {
        case .integer(let lo, let hi): return "integer" + Self.bounds(lo.map(Double.init), hi.map(Double.init))
        case .number(let lo, let hi): return "number" + Self.bounds(lo, hi)
        case .string: return "string"
        case .boolean: return "boolean (true or false)"
        case .choice(let values): return "one of " + values.map { "\"\($0)\"" }.joined(separator: ", ")
        case .list(let element):
            if case .integer = element { return "array of \(element.expected) or {\"range\": [lo, hi, step]}" }
            return "non-empty array of \(element.expected)"
        case .positions: return "\"last\", an offset from the last token (integer in -\(ManifestFields.maxTokens)...0), or an array of those"
        case .dataset: return "dataset name declared in \"datasets\", optionally \"name:split\""
        case .record(let name, let fields): return "\(name) object {" + fields.map { "\"\($0.name)\"" }.joined(separator: ", ") + "}"
        }
    }

    private static func bounds(_ lo: Double?, _ hi: Double?) -> String {
        func fmt(_ d: Double) -> String { JSONNumber(d).canonical }
        let fp32 = Double(Float.greatestFiniteMagnitude)
        if hi == fp32 { return lo == -fp32 ? " within fp32's range (|x| ≤ 3.4e38)" : " ≥ \(fmt(lo ?? -fp32)) within fp32's range" }
        switch (lo, hi) {
        case (let l?, let h?): return " in \(fmt(l))...\(fmt(h))"
        case (let l?, nil): return " ≥ \(fmt(l))"
        case (nil, let h?): return " ≤ \(fmt(h))"
        default: return ""
        }
    }
}

/// A limit a parameter has from the model it runs on, checked at plan time from the model's header
/// (`ManifestFileChecks`) and reported with the parameter's JSON path, before anything runs.
public enum ModelLimit: Sendable {
    /// A block index: below the model's block count.
    case block
    /// Tokens generated after a prompt: below the model's context length (a prompt has at least one token).
    case newTokens
    /// A window of tokens: at most the model's context length.
    case window
    /// An offset back from the last prompt token: its size below the model's context length.
    case offsetBack
    /// A principal component: at most the model's residual width.
    case width

    /// How the docs state the limit.
    public var doc: String {
        switch self {
        case .block: "below the model's block count"
        case .newTokens: "below the model's context length"
        case .window: "at most the model's context length"
        case .offsetBack: "within the model's context length"
        case .width: "at most the model's residual width"
        }
    }
}

/// Whether a parameter must be written, may be left out, or has a default.
public enum ParamPresence: Sendable {
    case required
    /// May be left out; absent means "not set" and the stage decides (documented in the parameter's doc).
    case optional
    case defaulted(JSONValue)

    public var defaultValue: JSONValue? { if case .defaulted(let v) = self { return v } else { return nil } }
}

/// One row of a stage kind's parameter table: name, type, default, sweep axis and doc string.
public struct ParamSpec: Sendable {
    public var name: String
    public var type: ParamType
    public var presence: ParamPresence
    /// When set, the parameter is a grid: a single value, an array or `{"range": [lo, hi, step]}` of `type`, and
    /// each value becomes one coordinate (named `axis`) of the stage's sweep cells.
    public var axis: String?
    /// The limit the model puts on the value (on each element of a list), checked once its header is read.
    public var modelLimit: ModelLimit?
    public var doc: String

    public init(_ name: String, _ type: ParamType, _ presence: ParamPresence, axis: String? = nil, model: ModelLimit? = nil,
                doc: String) {
        self.name = name
        self.type = type
        self.presence = presence
        self.axis = axis
        self.modelLimit = model
        self.doc = doc
    }
}

/// One named input slot of a stage kind: which kinds of stage may feed it, and whether it takes several.
public struct InputSpec: Sendable {
    public var name: String
    /// Stage kinds whose outputs fit this slot; empty means any kind.
    public var accepts: [StageKind]
    /// The slot takes an array of stage ids rather than one.
    public var many: Bool
    /// Required regardless of parameters (conditional requirements are `ParamRule`s).
    public var required: Bool
    public var doc: String

    public init(_ name: String, accepts: [StageKind], many: Bool = false, required: Bool, doc: String) {
        self.name = name
        self.accepts = accepts
        self.many = many
        self.required = required
        self.doc = doc
    }
}

/// A conditional requirement: when parameter `param` has one of `values`, the listed parameters and inputs must be
/// given (e.g. `variant = "steered"` needs input `vector` and parameters `layer`, `multiplier`).
public struct ParamRule: Sendable {
    public var param: String
    public var values: [String]
    public var requiresParams: [String]
    public var requiresInputs: [String]
    /// The rule applies when `param` is absent (instead of when it has one of `values`).
    public var whenAbsent = false

    public init(when param: String, in values: [String], requiresParams: [String] = [], requiresInputs: [String] = []) {
        self.param = param
        self.values = values
        self.requiresParams = requiresParams
        self.requiresInputs = requiresInputs
    }

    public init(whenAbsent param: String, requiresParams: [String] = [], requiresInputs: [String] = []) {
        self.init(when: param, in: [], requiresParams: requiresParams, requiresInputs: requiresInputs)
        whenAbsent = true
    }

    /// How the condition reads in docs and errors: `is "steered"`, `is absent`.
    public var condition: String {
        whenAbsent ? "is absent" : "is " + values.map { "`\"\($0)\"`" }.joined(separator: " or ")
    }

    public var doc: String {
        let needs = requiresParams.map { "parameter `\($0)`" } + requiresInputs.map { "input `\($0)`" }
        return "When `\(param)` \(condition): requires \(needs.joined(separator: " and "))."
    }
}

/// Extra sweep cells beyond the grid product, declared per kind.
public enum ExtraCells: Sendable {
    case none
    /// When boolean parameter `flag` is true, add one cell per value of grid axis `axis`, with the coordinate
    /// `marker: true` instead of the other axes (the steering sweep's "zeroed-out" cells).
    case perAxisValue(flag: String, axis: String, marker: String)
    /// When boolean parameter `flag` is true, add one cell with the coordinate `marker: true` alone (ActAdd's
    /// unsteered baseline, shared by every layer and coefficient of the grid).
    case single(flag: String, marker: String)
}

/// Everything the runner knows about one stage kind before its science is plugged in: its parameter table,
/// input slots, conditional rules and how its sweep cells are formed.
public struct StageKindSpec: Sendable {
    public var kind: StageKind
    public var summary: String
    public var params: [ParamSpec]
    public var inputs: [InputSpec]
    public var rules: [ParamRule]
    public var extraCells: ExtraCells

    public init(_ kind: StageKind, summary: String, params: [ParamSpec], inputs: [InputSpec],
                rules: [ParamRule] = [], extraCells: ExtraCells = .none) {
        self.kind = kind
        self.summary = summary
        self.params = params
        self.inputs = inputs
        self.rules = rules
        self.extraCells = extraCells
    }

    public func param(_ name: String) -> ParamSpec? { params.first { $0.name == name } }
    public func input(_ name: String) -> InputSpec? { inputs.first { $0.name == name } }
    /// The grid parameters, in table order: the axes of the sweep cells.
    public var axes: [ParamSpec] { params.filter { $0.axis != nil } }
}
