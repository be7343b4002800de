/// A JSON number: its literal text and, when it has at most 18 significant digits, its exact decimal value.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The text as written in the source (or produced by code).
    public let literal: String
    /// The exact value; nil for numbers too long to hold exactly (those compare by `Double`).
    public let exact: ExactDecimal?

    public init(literal: String) {
        self.literal = literal
        self.exact = ExactDecimal(literal: literal)
    }

    public init(_ value: Int) {
        self.literal = String(value)
        self.exact = ExactDecimal(value)
    }

    public init(_ value: ExactDecimal) {
        self.literal = value.description
        self.exact = value
    }

    /// A number from a `Double`, spelled by Swift's shortest round-trip form.
    public init(_ value: Double) {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
            self.init(Int(value))
        } else {
            var text = "\(value)"
            if text.hasSuffix(".0") { text.removeLast(2) }
            self.init(literal: text)
        }
    }

    public var doubleValue: Double { exact?.doubleValue ?? Double(literal) ?? .nan }
    /// The value as an `Int` when it is whole (`3`, `3.0`, `3e2`) and fits.
    public var integerValue: Int? { exact?.intValue }

    /// Canonical spelling: the normalised exact decimal, or the literal for numbers held only approximately.
    public var canonical: String { exact?.description ?? literal }
    public var description: String { canonical }

    public static func == (a: JSONNumber, b: JSONNumber) -> Bool {
        switch (a.exact, b.exact) {
        case (let x?, let y?): return x == y
        case (nil, nil): return a.doubleValue == b.doubleValue
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        if let exact { hasher.combine(exact) } else { hasher.combine(doubleValue) }
    }
}
