/// A minimal hand-written SVG 1.1 document builder: rectangles, lines, polylines, circles and text, with the
/// attribute values escaped and coordinates printed with at most two decimals (deterministic output).
public struct SVGCanvas: Sendable {
    public let width: Double
    public let height: Double
    /// The elements in drawing order, already serialised.
    public private(set) var elements: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// How text is anchored at its x coordinate.
    public enum Anchor: String, Sendable { case start, middle, end }

    /// A filled rectangle; `cssClass` and `data` attributes let tests and stylesheets find it, `tooltip` becomes a
    /// `<title>` child shown on hover.
    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil,
                              cssClass: String? = nil, data: [(String, String)] = [], tooltip: String? = nil) {
        var attributes = [("x", Self.number(x)), ("y", Self.number(y)), ("width", Self.number(max(0, width))),
                          ("height", Self.number(max(0, height))), ("fill", fill)]
        if let stroke { attributes += [("stroke", stroke), ("stroke-width", "0.5")] }
        if let cssClass { attributes.append(("class", cssClass)) }
        attributes += data.map { ("data-\($0.0)", $0.1) }
        append("rect", attributes, child: tooltip.map { "<title>\(Self.escape($0))</title>" })
    }

    /// A straight line.
    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String = "#333333",
                              strokeWidth: Double = 1, dashed: Bool = false, cssClass: String? = nil) {
        var attributes = [("x1", Self.number(x1)), ("y1", Self.number(y1)), ("x2", Self.number(x2)), ("y2", Self.number(y2)),
                          ("stroke", stroke), ("stroke-width", Self.number(strokeWidth))]
        if dashed { attributes.append(("stroke-dasharray", "4 3")) }
        if let cssClass { attributes.append(("class", cssClass)) }
        append("line", attributes)
    }

    /// An open polyline through `points` (at least two points are needed to be visible).
    public mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, strokeWidth: Double = 1.5,
                                  dashed: Bool = false, cssClass: String? = nil, data: [(String, String)] = []) {
        var attributes = [("points", points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")),
                          ("fill", "none"), ("stroke", stroke), ("stroke-width", Self.number(strokeWidth))]
        if dashed { attributes.append(("stroke-dasharray", "5 3")) }
        if let cssClass { attributes.append(("class", cssClass)) }
        attributes += data.map { ("data-\($0.0)", $0.1) }
        append("polyline", attributes)
    }

    /// A filled circle (data-point markers).
    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String, cssClass: String? = nil, tooltip: String? = nil) {
        var attributes = [("cx", Self.number(cx)), ("cy", Self.number(cy)), ("r", Self.number(r)), ("fill", fill)]
        if let cssClass { attributes.append(("class", cssClass)) }
        append("circle", attributes, child: tooltip.map { "<title>\(Self.escape($0))</title>" })
    }

    /// Text at (x, y) (baseline), optionally rotated about that point (−90 for a vertical axis label).
    public mutating func text(_ string: String, x: Double, y: Double, size: Double = 11, anchor: Anchor = .start,
                              rotate: Double? = nil, bold: Bool = false, fill: String = "#222222", cssClass: String? = nil) {
        var attributes = [("x", Self.number(x)), ("y", Self.number(y)), ("font-size", Self.number(size)),
                          ("text-anchor", anchor.rawValue), ("fill", fill)]
        if bold { attributes.append(("font-weight", "bold")) }
        if let rotate { attributes.append(("transform", "rotate(\(Self.number(rotate)) \(Self.number(x)) \(Self.number(y)))")) }
        if let cssClass { attributes.append(("class", cssClass)) }
        append("text", attributes, child: Self.escape(string))
    }

    private mutating func append(_ name: String, _ attributes: [(String, String)], child: String? = nil) {
        let attrs = attributes.map { " \($0.0)=\"\(Self.escape($0.1))\"" }.joined()
        elements.append(child.map { "<\(name)\(attrs)>\($0)</\(name)>" } ?? "<\(name)\(attrs)/>")
    }

    /// The standalone document: XML declaration, `<svg>` root with a white background and font family.
    public func render() -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" "
        out += "viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"#ffffff\"/>\n"
        for e in elements { out += e + "\n" }
        return out + "</svg>\n"
    }

    /// A coordinate with at most two decimals, trailing zeros dropped (`12`, `12.5`, `12.25`).
    public static func number(_ v: Double) -> String { ReportNumber.trimmed(v, 2) }

    /// Escapes `&`, `<`, `>`, `"` and `'` for XML text and attribute values, and drops characters XML 1.0 forbids.
    public static func escape(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value >= 0x20 && !(0xFFFE...0xFFFF).contains(scalar.value) { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
