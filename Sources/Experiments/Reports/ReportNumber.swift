import Foundation

/// The fixed number formats of reports, so that equal results render byte-identically (no locale, no
/// shortest-round-trip surprises): percentages with one decimal, p-values with four significant places.
public enum ReportNumber {
    /// `value` with exactly `digits` decimals; "nan" / "inf" / "-inf" for non-finite values; "-0.0" becomes "0.0".
    public static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        let text = String(format: "%.\(digits)f", value)
        if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { return String(text.dropFirst()) }
        return text
    }

    /// A difference with exactly `digits` decimals and its sign: `+0.052`, `-0.013`, `0.000`.
    public static func signed(_ value: Double, _ digits: Int) -> String {
        let text = fixed(value, digits)
        return value > 0 && !text.allSatisfy({ $0 == "0" || $0 == "." }) ? "+" + text : text
    }

    /// A percentage (0–100) with one decimal: `81.0`.
    public static func percent(_ value: Double) -> String { fixed(value, 1) }

    /// A p-value: four decimals down to 0.0001, then scientific with two decimals (`3.20e-07`).
    public static func pValue(_ p: Double) -> String {
        guard p.isFinite else { return "nan" }
        if p >= 0.0001 || p == 0 { return fixed(p, 4) }
        return String(format: "%.2e", p)
    }

    /// An integer-valued count without decimals, otherwise four decimals.
    public static func count(_ value: Double) -> String {
        value.isFinite && value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : fixed(value, 4)
    }

    /// A general measurement with `digits` significant decimals, trimmed of trailing zeros (`0.25`, `12`, `1e-05`
    /// stays fixed: `0.00001`).
    public static func trimmed(_ value: Double, _ digits: Int = 4) -> String {
        var text = fixed(value, digits)
        guard text.contains("."), value.isFinite else { return text }
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }
}
