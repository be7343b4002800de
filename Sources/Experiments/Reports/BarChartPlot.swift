/// One bar: its label, value and optional interval (drawn as a whisker), in the chart's units.
public struct BarChartBar: Sendable {
    public var label: String
    public var value: Double
    public var low: Double?
    public var high: Double?

    public init(label: String, value: Double, low: Double? = nil, high: Double? = nil) {
        self.label = label
        self.value = value
        self.low = low
        self.high = high
    }
}

/// A vertical bar chart with interval whiskers (honest % per condition with Wilson 95% intervals). Bars are
/// `<rect class="bar">`, whiskers `<line class="whisker">` (one vertical line and two caps per interval).
public struct BarChartPlot: Sendable {
    public var title: String
    public var yLabel: String
    public var bars: [BarChartBar]
    public var axis: PlotAxis
    public var colour: String

    public init(title: String, yLabel: String, bars: [BarChartBar], axis: PlotAxis = PlotAxis(low: 0, high: 100, step: 20),
                colour: String = "#3b528b") {
        self.title = title
        self.yLabel = yLabel
        self.bars = bars
        self.axis = axis
        self.colour = colour
    }

    public func svg() -> String {
        let top = 40.0, plotHeight = 240.0, barSlot = 64.0
        let plotWidth = max(200, barSlot * Double(bars.count))
        let longest = bars.map(\.label.count).max() ?? 0
        // Labels are rotated by 35°: about 5.5 px per character, cos 35° ≈ 0.82 of it to the left of the first bar.
        let labelSpace = 14 + 5.5 * Double(longest) * 0.58
        let firstSlot = plotWidth / Double(max(1, bars.count)) / 2
        let left = max(60, 5.5 * Double(bars.first?.label.count ?? 0) * 0.82 - firstSlot + 10)
        let width = left + plotWidth + 20, height = top + plotHeight + labelSpace + 10
        var canvas = SVGCanvas(width: width, height: height)
        canvas.text(title, x: width / 2, y: 20, size: 14, anchor: .middle, bold: true, cssClass: "title")
        let bottom = top + plotHeight
        func y(_ v: Double) -> Double { axis.position(min(axis.high, max(axis.low, v)), from: bottom, to: top) }
        for tick in axis.ticks {
            canvas.line(x1: left, y1: y(tick), x2: left + plotWidth, y2: y(tick), stroke: "#e5e5e5", cssClass: "grid")
            canvas.text(axis.label(tick), x: left - 6, y: y(tick) + 4, size: 10, anchor: .end, cssClass: "tick-label")
        }
        canvas.line(x1: left, y1: top, x2: left, y2: bottom, cssClass: "axis")
        canvas.line(x1: left, y1: bottom, x2: left + plotWidth, y2: bottom, cssClass: "axis")
        canvas.text(yLabel, x: 16, y: top + plotHeight / 2, size: 11, anchor: .middle, rotate: -90, cssClass: "y-label")
        let slot = plotWidth / Double(max(1, bars.count))
        for (i, bar) in bars.enumerated() {
            let cx = left + (Double(i) + 0.5) * slot
            let barWidth = slot * 0.6
            let zero = y(max(axis.low, min(axis.high, 0)))
            let top = y(bar.value)
            canvas.rect(x: cx - barWidth / 2, y: min(top, zero), width: barWidth, height: abs(zero - top), fill: colour, cssClass: "bar",
                        data: [("label", bar.label), ("value", ReportNumber.trimmed(bar.value, 4))],
                        tooltip: "\(bar.label): \(ReportNumber.trimmed(bar.value, 2))")
            if let low = bar.low, let high = bar.high {
                let cap = barWidth * 0.25
                canvas.line(x1: cx, y1: y(low), x2: cx, y2: y(high), stroke: "#111111", strokeWidth: 1.2, cssClass: "whisker")
                canvas.line(x1: cx - cap, y1: y(low), x2: cx + cap, y2: y(low), stroke: "#111111", strokeWidth: 1.2, cssClass: "whisker")
                canvas.line(x1: cx - cap, y1: y(high), x2: cx + cap, y2: y(high), stroke: "#111111", strokeWidth: 1.2, cssClass: "whisker")
            }
            canvas.text(bar.label, x: cx, y: bottom + 14, size: 10, anchor: .end, rotate: -35, cssClass: "bar-label")
        }
        return canvas.render()
    }
}
