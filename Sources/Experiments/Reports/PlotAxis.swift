import Foundation

/// A linear axis for charts: the data range, "nice" tick values covering it, and the mapping to pixels.
public struct PlotAxis: Sendable, Equatable {
    public var low: Double
    public var high: Double
    public var ticks: [Double]

    /// An axis over exactly `low…high` with ticks every `step`.
    public init(low: Double, high: Double, step: Double) {
        self.low = low
        self.high = high
        let count = Int(((high - low) / step).rounded(.down))
        // Rounded to 10 decimals so that 3 × 0.2 is 0.6, not 0.6000000000000001.
        ticks = (0...max(0, count)).map { ((low + Double($0) * step) * 1e10).rounded() / 1e10 }
    }

    /// An axis covering `values` with about `target` ticks at 1, 2 or 5 × 10^k steps (a flat range is widened);
    /// `integral` keeps ticks on whole numbers (layers, steps).
    public init(covering values: [Double], target: Int = 5, integral: Bool = false) {
        let finite = values.filter(\.isFinite)
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if hi - lo < 1e-12 { lo -= 0.5 * max(1, abs(lo)); hi += 0.5 * max(1, abs(hi)) }
        let raw = (hi - lo) / Double(max(1, target))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        var step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        if integral { step = max(1, step.rounded()) }
        let start = (lo / step).rounded(.down) * step
        let end = (hi / step).rounded(.up) * step
        self.init(low: start, high: end, step: step)
    }

    /// Maps `value` to a pixel in `from…to` (to may be smaller than from: y axes grow upwards).
    public func position(_ value: Double, from: Double, to: Double) -> Double {
        from + (value - low) / (high - low) * (to - from)
    }

    /// A tick label without trailing zeros.
    public func label(_ value: Double) -> String {
        let step = ticks.count > 1 ? abs(ticks[1] - ticks[0]) : 1
        let digits = step >= 1 ? 0 : min(6, Int((-log10(step)).rounded(.up)))
        return ReportNumber.fixed(value, digits)
    }
}
