/// Expansion of grid parameter values: a list of numbers, or `{"range": [lo, hi, step]}` inclusive,
/// computed in scaled integers so that `[0, 1, 0.1]` gives exactly 0, 0.1, …, 1 with 0.3 read back as 0.3.
public enum Grid {
    /// Most values a single grid may expand to.
    public static let maximumCount = 10_000

    /// The values of `value`, or the errors (paths start with `path`).
    public static func expand(_ value: JSONValue, integer: Bool = false, path: String = "grid") -> Result<[Double], ManifestFailure> {
        let type: ParameterType = integer ? .intGrid : .grid
        switch value {
        case .array(let items):
            if items.isEmpty { return .failure(.invalid([ManifestError(path: path, expected: "at least one value", found: "an empty list")])) }
            var values: [Double] = []
            var errors: [ManifestError] = []
            for (i, item) in items.enumerated() {
                if let d = number(item, integer: integer) {
                    values.append(d)
                } else {
                    errors.append(ManifestError(path: "\(path)[\(i)]", expected: integer ? "an integer" : "a number", found: Found.describe(item)))
                }
            }
            return errors.isEmpty ? .success(values) : .failure(.invalid(errors))
        case .object(let members):
            var errors: [ManifestError] = []
            for m in members where m.key != "range" {
                errors.append(ManifestError(path: "\(path).\(m.key)", expected: "only the key \"range\"", found: "unknown key \(JSONText.quoted(m.key))",
                                            suggestion: Suggestion.nearest(to: m.key, in: ["range"])))
            }
            guard let range = value["range"] else {
                errors.append(ManifestError(path: "\(path).range", expected: "[lo, hi, step]", found: "nothing"))
                return .failure(.invalid(errors))
            }
            guard case .array(let bounds) = range, bounds.count == 3 else {
                errors.append(ManifestError(path: "\(path).range", expected: "[lo, hi, step]", found: Found.describe(range)))
                return .failure(.invalid(errors))
            }
            var numbers: [Double] = []
            for (i, b) in bounds.enumerated() {
                if let d = number(b, integer: integer) {
                    numbers.append(d)
                } else {
                    errors.append(ManifestError(path: "\(path).range[\(i)]", expected: integer ? "an integer" : "a number", found: Found.describe(b)))
                }
            }
            if !errors.isEmpty { return .failure(.invalid(errors)) }
            return range3(lo: numbers[0], hi: numbers[1], step: numbers[2], path: "\(path).range")
        default:
            return .failure(.invalid([ManifestError(path: path, expected: type.expectation, found: Found.describe(value))]))
        }
    }

    private static func number(_ v: JSONValue, integer: Bool) -> Double? {
        if integer { return v.intValue.map(Double.init) }
        return v.numberValue
    }

    private static func range3(lo: Double, hi: Double, step: Double, path: String) -> Result<[Double], ManifestFailure> {
        if step == 0 {
            return .failure(.invalid([ManifestError(path: "\(path)[2]", expected: "a non-zero step", found: "0")]))
        }
        if (hi - lo) * step < 0 {
            let want = hi < lo ? "a negative step (hi < lo)" : "a positive step (hi > lo)"
            return .failure(.invalid([ManifestError(path: "\(path)[2]", expected: want, found: JSONText.number(step))]))
        }
        let places = [lo, hi, step].map(decimalPlaces).max() ?? 0
        let scale = pow10(places)
        let limit = 9.0e15
        let l = (lo * scale).rounded(), h = (hi * scale).rounded(), s = (step * scale).rounded()
        guard places <= 15, abs(l) < limit, abs(h) < limit, abs(s) < limit, s != 0 else {
            // Fall back to plain floating point when the decimal form is too long to scale exactly.
            let count = ((hi - lo) / step + 1e-9).rounded(.down) + 1
            guard count <= Double(maximumCount) else { return tooMany(count, path) }
            return .success((0..<Int(count)).map { lo + Double($0) * step })
        }
        let count = ((h - l) / s).rounded(.down) + 1
        guard count <= Double(maximumCount) else { return tooMany(count, path) }
        return .success((0..<Int(count)).map { (l + Double($0) * s) / scale })
    }

    private static func tooMany(_ count: Double, _ path: String) -> Result<[Double], ManifestFailure> {
        let shown = count < 1e15 ? String(Int64(count)) : JSONText.number(count)
        return .failure(.invalid([ManifestError(path: path, expected: "at most \(maximumCount) values", found: "\(shown) values")]))
    }

    private static func pow10(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<max(0, n) { r *= 10 }
        return r
    }

    /// Digits after the decimal point in the shortest text of `d` (`0.25` → 2, `1e-5` → 5).
    static func decimalPlaces(_ d: Double) -> Int {
        let text = JSONText.number(d)
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(of: "e") {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        let fraction = mantissa.firstIndex(of: ".").map { mantissa.distance(from: $0, to: mantissa.endIndex) - 1 } ?? 0
        return max(0, fraction - exponent)
    }
}
