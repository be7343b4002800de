/// One grid of a heatmap: row labels (drawn top to bottom), column labels (left to right) and `values[row][column]`
/// (nil = no value: drawn grey).
public struct HeatmapPanel: Sendable {
    public var title: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    public var values: [[Double?]]

    public init(title: String, rowLabels: [String], columnLabels: [String], values: [[Double?]]) {
        self.title = title
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
    }
}

/// A heatmap of one or more panels side by side sharing one colour scale, with axis labels and a colour-scale
/// legend. Each grid cell is one `<rect class="cell">` carrying `data-row`, `data-column` and `data-value`.
public struct HeatmapPlot: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var panels: [HeatmapPanel]
    public var scale: ColourScale
    /// Label of the legend (the quantity coloured).
    public var legendLabel: String
    /// Decimals of the values printed inside the cells (nil = no numbers, for large grids).
    public var cellDecimals: Int?

    public init(title: String, xLabel: String, yLabel: String, panels: [HeatmapPanel], scale: ColourScale,
                legendLabel: String, cellDecimals: Int? = 1) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.panels = panels
        self.scale = scale
        self.legendLabel = legendLabel
        self.cellDecimals = cellDecimals
    }

    public static let missingColour = "#dddddd"

    public func svg() -> String {
        let maxColumns = panels.map(\.columnLabels.count).max() ?? 1
        let maxRows = panels.map(\.rowLabels.count).max() ?? 1
        // Cells shrink for large grids but a panel stays wide enough for its axis label.
        let cellWidth = max(14, min(56, 420 / Double(max(1, maxColumns))))
        let cellHeight = max(10, min(30, 360 / Double(max(1, maxRows))))
        let titled = panels.count > 1 || panels.contains { !$0.title.isEmpty }
        let left = 70.0, top = titled ? 68.0 : 52.0, gap = 40.0, legendWidth = 90.0
        let panelWidth = max(cellWidth * Double(maxColumns), 6.5 * Double(xLabel.count))
        let gridHeight = cellHeight * Double(maxRows)
        let width = max(left + Double(panels.count) * panelWidth + Double(max(0, panels.count - 1)) * gap + 30 + legendWidth,
                        7.8 * Double(title.count) + 40)
        let height = top + gridHeight + 62
        var canvas = SVGCanvas(width: width, height: height)
        canvas.text(title, x: width / 2, y: 20, size: 14, anchor: .middle, bold: true, cssClass: "title")
        let showNumbers = cellDecimals != nil && cellWidth >= 30 && cellHeight >= 14
        for (p, panel) in panels.enumerated() {
            let panelX = left + Double(p) * (panelWidth + gap)
            // The grid is centred in its panel (a panel may be wider than its grid, for the axis label).
            let x0 = panelX + (panelWidth - cellWidth * Double(panel.columnLabels.count)) / 2
            if panels.count > 1 || !panel.title.isEmpty {
                canvas.text(panel.title, x: panelX + panelWidth / 2, y: top - 22, size: 12, anchor: .middle, cssClass: "panel-title")
            }
            for (r, rowLabel) in panel.rowLabels.enumerated() {
                let y = top + Double(r) * cellHeight
                if p == 0 || panel.rowLabels != panels[0].rowLabels {
                    canvas.text(rowLabel, x: x0 - 5, y: y + cellHeight / 2 + 4, size: 10, anchor: .end, cssClass: "row-label")
                }
                for (c, _) in panel.columnLabels.enumerated() {
                    let value = r < panel.values.count && c < panel.values[r].count ? panel.values[r][c] : nil
                    let x = x0 + Double(c) * cellWidth
                    let fill = value.map(scale.colour) ?? Self.missingColour
                    canvas.rect(x: x, y: y, width: cellWidth, height: cellHeight, fill: fill, stroke: "#ffffff", cssClass: "cell",
                                data: [("row", rowLabel), ("column", panel.columnLabels[c]),
                                       ("value", value.map { ReportNumber.trimmed($0, 4) } ?? "")],
                                tooltip: "\(yLabel) \(rowLabel), \(xLabel) \(panel.columnLabels[c]): "
                                    + (value.map { ReportNumber.trimmed($0, 4) } ?? "no value"))
                    if showNumbers, let value, let decimals = cellDecimals {
                        canvas.text(ReportNumber.fixed(value, decimals), x: x + cellWidth / 2, y: y + cellHeight / 2 + 4, size: 9,
                                    anchor: .middle, fill: ColourScale.isDark(fill) ? "#ffffff" : "#111111", cssClass: "cell-value")
                    }
                }
            }
            for (c, columnLabel) in panel.columnLabels.enumerated() {
                let x = x0 + (Double(c) + 0.5) * cellWidth
                canvas.text(columnLabel, x: x, y: top + gridHeight + 14, size: 10, anchor: .middle, cssClass: "column-label")
            }
            canvas.text(xLabel, x: panelX + panelWidth / 2, y: top + gridHeight + 34, size: 11, anchor: .middle, cssClass: "x-label")
        }
        canvas.text(yLabel, x: 16, y: top + gridHeight / 2, size: 11, anchor: .middle, rotate: -90, cssClass: "y-label")
        // Legend: a vertical colour ramp of 20 steps, high at the top.
        let lx = width - legendWidth + 4, steps = 20
        let rampHeight = max(100, min(gridHeight, 240)), stepHeight = rampHeight / Double(steps)
        for i in 0..<steps {
            let t = 1 - (Double(i) + 0.5) / Double(steps)
            let value = scale.low + t * (scale.high - scale.low)
            canvas.rect(x: lx, y: top + Double(i) * stepHeight, width: 16, height: stepHeight + 0.5, fill: scale.colour(value),
                        cssClass: "legend-step")
        }
        let legendAxis = PlotAxis(covering: [scale.low, scale.high], target: 4)
        for tick in legendAxis.ticks where tick >= scale.low - 1e-9 && tick <= scale.high + 1e-9 {
            let y = top + (1 - scale.fraction(tick)) * rampHeight
            canvas.line(x1: lx + 16, y1: y, x2: lx + 20, y2: y, cssClass: "legend-tick")
            canvas.text(legendAxis.label(tick), x: lx + 23, y: y + 4, size: 9, cssClass: "legend-label")
        }
        canvas.text(legendLabel, x: lx, y: top - 8, size: 10, cssClass: "legend-title")
        return canvas.render()
    }
}
