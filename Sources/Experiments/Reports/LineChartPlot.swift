/// One line of a chart: a name for the legend and its points; points with a nil y are skipped and the line joins
/// the known ones (validation losses recorded every few steps).
public struct LineSeries: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double?)]
    public var dashed: Bool

    public init(name: String, points: [(x: Double, y: Double?)], dashed: Bool = false) {
        self.name = name
        self.points = points
        self.dashed = dashed
    }
}

/// A line chart with axes, ticks, axis labels and a legend (per-layer AUROC; tuning loss curves). Each series is
/// one `<polyline class="series" data-series="name">` through its known points, with a `<circle class="marker">`
/// on each point when a series has at most `markerLimit` of them (a lone point is always marked).
public struct LineChartPlot: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [LineSeries]
    /// Fixed y axis (nil = fitted to the data).
    public var yAxis: PlotAxis?

    public init(title: String, xLabel: String, yLabel: String, series: [LineSeries], yAxis: PlotAxis? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.yAxis = yAxis
    }

    /// Series with more known points than this are drawn without point markers.
    public static let markerLimit = 40

    /// Colours of the series, in order (cycled).
    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public func svg() -> String {
        let left = 64.0, top = 40.0, plotWidth = 440.0, plotHeight = 240.0, legendWidth = 150.0
        let width = left + plotWidth + 20 + legendWidth, height = top + plotHeight + 50
        var canvas = SVGCanvas(width: width, height: height)
        canvas.text(title, x: (left + plotWidth) / 2 + 20, y: 20, size: 14, anchor: .middle, bold: true, cssClass: "title")
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.compactMap(\.y) }
        let xAxis = PlotAxis(covering: xs, target: 6, integral: xs.allSatisfy { $0 == $0.rounded() })
        let yAxis = self.yAxis ?? PlotAxis(covering: ys, target: 5)
        let bottom = top + plotHeight
        func px(_ x: Double) -> Double { xAxis.position(x, from: left, to: left + plotWidth) }
        func py(_ y: Double) -> Double { yAxis.position(y, from: bottom, to: top) }
        for tick in yAxis.ticks {
            canvas.line(x1: left, y1: py(tick), x2: left + plotWidth, y2: py(tick), stroke: "#e5e5e5", cssClass: "grid")
            canvas.text(yAxis.label(tick), x: left - 6, y: py(tick) + 4, size: 10, anchor: .end, cssClass: "tick-label")
        }
        for tick in xAxis.ticks {
            canvas.line(x1: px(tick), y1: bottom, x2: px(tick), y2: bottom + 4, cssClass: "tick")
            canvas.text(xAxis.label(tick), x: px(tick), y: bottom + 16, size: 10, anchor: .middle, cssClass: "tick-label")
        }
        canvas.line(x1: left, y1: top, x2: left, y2: bottom, cssClass: "axis")
        canvas.line(x1: left, y1: bottom, x2: left + plotWidth, y2: bottom, cssClass: "axis")
        canvas.text(xLabel, x: left + plotWidth / 2, y: bottom + 36, size: 11, anchor: .middle, cssClass: "x-label")
        canvas.text(yLabel, x: 16, y: top + plotHeight / 2, size: 11, anchor: .middle, rotate: -90, cssClass: "y-label")
        for (i, s) in series.enumerated() {
            let colour = Self.palette[i % Self.palette.count]
            let known = s.points.compactMap { p in p.y.flatMap { $0.isFinite ? (x: p.x, y: $0) : nil } }
            if known.count >= 2 {
                canvas.polyline(known.map { (px($0.x), py($0.y)) }, stroke: colour, dashed: s.dashed, cssClass: "series",
                                data: [("series", s.name)])
            }
            if known.count == 1 || known.count <= Self.markerLimit {
                for p in known {
                    canvas.circle(cx: px(p.x), cy: py(p.y), r: 2.5, fill: colour, cssClass: "marker",
                                  tooltip: "\(s.name): \(ReportNumber.trimmed(p.x, 4)), \(ReportNumber.trimmed(p.y, 4))")
                }
            }
            let ly = top + 10 + Double(i) * 18
            canvas.line(x1: left + plotWidth + 24, y1: ly, x2: left + plotWidth + 48, y2: ly, stroke: colour, strokeWidth: 2,
                        dashed: s.dashed, cssClass: "legend-line")
            canvas.text(s.name, x: left + plotWidth + 54, y: ly + 4, size: 10, cssClass: "legend-label")
        }
        return canvas.render()
    }
}
