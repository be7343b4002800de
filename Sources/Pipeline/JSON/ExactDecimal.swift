/// A decimal number held exactly as `significand × 10^exponent`, so that manifest values such as `0.1` and grid
/// ranges such as `{"range": [-1, 1, 0.1]}` expand without binary floating-point drift.
///
/// Values are kept normalised (no trailing zeros in the significand, zero is `0 × 10^0`), so two equal numbers
/// have equal fields whatever their spelling (`1.50`, `15e-1`, `1.5`).
public struct ExactDecimal: Sendable, Hashable, Comparable, CustomStringConvertible {
    public private(set) var significand: Int
    public private(set) var exponent: Int

    /// Largest |exponent| accepted; keeps rendering and scaling bounded.
    static let maxExponent = 400

    public init(significand: Int, exponent: Int = 0) {
        var s = significand, e = exponent
        if s == 0 { e = 0 }
        while s != 0 && s % 10 == 0 { s /= 10; e += 1 }
        self.significand = s
        self.exponent = e
    }

    public init(_ value: Int) { self.init(significand: value, exponent: 0) }

    /// Parses a JSON number literal (`-12.5e-3`); nil when it has more digits than an `Int` holds or is malformed.
    public init?(literal: String) {
        var chars = Substring(literal)
        var negative = false
        if chars.first == "-" { negative = true; chars = chars.dropFirst() }
        var digits = ""
        var fractionDigits = 0
        var seenPoint = false
        var exponentPart = 0
        while let c = chars.first, c != "e", c != "E" {
            chars = chars.dropFirst()
            if c == "." {
                if seenPoint { return nil }
                seenPoint = true
            } else if c.isASCII, c.isNumber {
                digits.append(c)
                if seenPoint { fractionDigits += 1 }
            } else {
                return nil
            }
        }
        if !chars.isEmpty {
            chars = chars.dropFirst()  // e / E
            guard let e = Int(chars), abs(e) <= Self.maxExponent else { return nil }
            exponentPart = e
        }
        // Drop leading zeros; trailing zeros are folded into the exponent by normalisation.
        let trimmed = digits.drop(while: { $0 == "0" })
        guard trimmed.count <= 18, digits.count > 0 else {
            if digits.isEmpty { return nil }
            // Only zeros beyond 18 digits are fine: e.g. "0.0000000000000000000001" has few significant digits.
            var sig = String(trimmed)
            var extraExponent = 0
            while sig.count > 18, sig.last == "0" { sig.removeLast(); extraExponent += 1 }
            guard sig.count <= 18, let v = Int(sig) else { return nil }
            self.init(significand: negative ? -v : v, exponent: exponentPart - fractionDigits + extraExponent)
            return
        }
        let v = Int(trimmed) ?? 0
        let e = exponentPart - fractionDigits
        guard abs(e) <= Self.maxExponent else { return nil }
        self.init(significand: negative ? -v : v, exponent: e)
    }

    public var isZero: Bool { significand == 0 }
    public var isInteger: Bool { exponent >= 0 }

    /// The value as an `Int` when it is a whole number that fits.
    public var intValue: Int? {
        guard exponent >= 0 else { return nil }
        var v = significand
        for _ in 0..<exponent {
            let (m, overflow) = v.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            v = m
        }
        return v
    }

    public var doubleValue: Double { Double(description) ?? .nan }

    /// Both values scaled to integers at the smaller exponent; nil on overflow.
    static func aligned(_ values: [ExactDecimal]) -> (ints: [Int], exponent: Int)? {
        guard let e = values.map(\.exponent).min() else { return ([], 0) }
        var out: [Int] = []
        for v in values {
            var s = v.significand
            let shift = v.exponent - e
            if shift > 36 && s != 0 { return nil }
            for _ in 0..<shift {
                let (m, overflow) = s.multipliedReportingOverflow(by: 10)
                if overflow { return nil }
                s = m
            }
            out.append(s)
        }
        return (out, e)
    }

    public static func < (a: ExactDecimal, b: ExactDecimal) -> Bool {
        if let pair = aligned([a, b]) { return pair.ints[0] < pair.ints[1] }
        return a.doubleValue < b.doubleValue
    }

    /// The inclusive arithmetic progression `lo, lo+step, …` not passing `hi`, computed exactly; nil on overflow.
    /// Returns an empty list when `step` is zero or points away from `hi`.
    public static func progression(from lo: ExactDecimal, to hi: ExactDecimal, step: ExactDecimal,
                                   limit: Int) -> [ExactDecimal]? {
        guard let (ints, e) = aligned([lo, hi, step]) else { return nil }
        let (l, h, s) = (ints[0], ints[1], ints[2])
        guard s != 0, (h - l).signum() * s.signum() >= 0 else { return [] }
        let (diff, o1) = h.subtractingReportingOverflow(l)
        if o1 { return nil }
        let count = diff / s + 1
        guard count <= limit else { return Array(repeating: lo, count: limit + 1) }
        return (0..<count).map { ExactDecimal(significand: l + $0 * s, exponent: e) }
    }

    /// Plain decimal notation when short (`0.00001`, `1500`), scientific otherwise (`1.5e-30`).
    public var description: String {
        if significand == 0 { return "0" }
        let negative = significand < 0
        let digits = String(significand.magnitude)
        var body: String
        if exponent >= 0 {
            if digits.count + exponent <= 21 {
                body = digits + String(repeating: "0", count: exponent)
            } else {
                body = scientific(digits)
            }
        } else {
            let point = digits.count + exponent  // digits before the decimal point
            if point > 0 {
                body = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            } else if point > -7 {
                body = "0." + String(repeating: "0", count: -point) + digits
            } else {
                body = scientific(digits)
            }
        }
        return negative ? "-" + body : body
    }

    private func scientific(_ digits: String) -> String {
        let e = exponent + digits.count - 1
        let mantissa = digits.count > 1 ? String(digits.prefix(1)) + "." + String(digits.dropFirst()) : digits
        return "\(mantissa)e\(e)"
    }
}
