/// A piecewise-linear colour scale from a value domain to `#rrggbb`, for heatmaps and their legends.
public struct ColourScale: Sendable, Equatable {
    /// Colours (r, g, b in 0…255) at evenly spaced points of the domain, low to high.
    public var stops: [(r: Double, g: Double, b: Double)]
    public var low: Double
    public var high: Double

    public init(stops: [(r: Double, g: Double, b: Double)], low: Double, high: Double) {
        precondition(stops.count >= 2 && high > low, "ColourScale needs two stops and low < high")
        self.stops = stops
        self.low = low
        self.high = high
    }

    public static func == (a: ColourScale, b: ColourScale) -> Bool {
        a.low == b.low && a.high == b.high && a.stops.count == b.stops.count
            && zip(a.stops, b.stops).allSatisfy { $0.r == $1.r && $0.g == $1.g && $0.b == $1.b }
    }

    /// A sequential dark-blue → green → yellow scale (perceptually ordered: lightness rises with the value).
    public static func sequential(low: Double, high: Double) -> ColourScale {
        ColourScale(stops: [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)], low: low, high: high)
    }

    /// A diverging blue → white → red scale, white at the middle of the domain (cosine similarities in −1…1).
    public static func diverging(low: Double, high: Double) -> ColourScale {
        ColourScale(stops: [(33, 102, 172), (247, 247, 247), (178, 24, 43)], low: low, high: high)
    }

    /// Position of `value` in the domain, clamped to 0…1 (NaN maps to 0).
    public func fraction(_ value: Double) -> Double {
        guard value.isFinite else { return 0 }
        return min(1, max(0, (value - low) / (high - low)))
    }

    /// The colour of `value` as `#rrggbb`.
    public func colour(_ value: Double) -> String {
        let t = fraction(value) * Double(stops.count - 1)
        let i = min(stops.count - 2, Int(t.rounded(.down)))
        let f = t - Double(i)
        let a = stops[i], b = stops[i + 1]
        func channel(_ x: Double, _ y: Double) -> Int { Int((x + (y - x) * f).rounded()) }
        return "#" + [channel(a.r, b.r), channel(a.g, b.g), channel(a.b, b.b)].map(Self.hex).joined()
    }

    /// Whether text on this `#rrggbb` colour should be white (relative luminance below one half).
    public static func isDark(_ colour: String) -> Bool {
        guard colour.count == 7, let v = Int(colour.dropFirst(), radix: 16) else { return false }
        let r = Double(v >> 16), g = Double((v >> 8) & 255), b = Double(v & 255)
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 < 0.5
    }

    static func hex(_ v: Int) -> String {
        let digits = Array("0123456789abcdef")
        let c = min(255, max(0, v))
        return String([digits[c / 16], digits[c % 16]])
    }
}
