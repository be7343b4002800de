/// The cosine similarity of two vectors, accumulated in fp64 whatever their element type: the tuning diagnostics'
/// cosine map and CAST's steering condition both read it. 0 when either vector is zero.
enum Cosine {
    static func of<H: Sequence, V: Sequence>(_ h: H, _ v: V) -> Double where H.Element: BinaryFloatingPoint, V.Element: BinaryFloatingPoint {
        var hh = 0.0, vv = 0.0, hv = 0.0
        for (a, b) in zip(h, v) {
            let x = Double(a), y = Double(b)
            hh += x * x
            vv += y * y
            hv += x * y
        }
        return hh > 0 && vv > 0 ? hv / (hh * vv).squareRoot() : 0
    }
}
