import Engine
import Foundation
import ModelFormats
import QuantizedKernels
import Testing
import TestSupport

/// Random encoded weights of every type the native kernels read, with finite scales and, in each row, one block of
/// all-ones bytes and one of zero bytes (the extreme quants: q = 15, 31, 63, −8, −16, −32, ±127…).
struct EncodedFixture {
    let type: GGMLType
    let rows: Int
    let columns: Int
    let bytes: [UInt8]

    static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K, .f16, .bf16, .f32]

    /// Positions of the f16 scale fields in a block.
    static func halfFields(_ t: GGMLType) -> [Int] {
        switch t {
        case .q4_0, .q5_0, .q8_0: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q6_K: [208]
        default: []
        }
    }

    init(_ type: GGMLType, rows: Int, columns: Int, seed: UInt64) {
        self.type = type
        self.rows = rows
        self.columns = columns
        var g = SeededGenerator(seed: seed)
        var bytes = [UInt8](repeating: 0, count: rows * type.byteCount(elements: columns))
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: g.next()) }
        func putHalf(_ v: Float, at i: Int) {
            let bits = Float16(v).bitPattern
            bytes[i] = UInt8(bits & 0xFF)
            bytes[i + 1] = UInt8(bits >> 8)
        }
        switch type {
        case .f16:
            for i in stride(from: 0, to: bytes.count, by: 2) { putHalf((g.nextUnit() - 0.5) * 0.2, at: i) }
        case .bf16:
            for i in stride(from: 0, to: bytes.count, by: 2) {
                let bits = Float((g.nextUnit() - 0.5) * 0.2).bitPattern >> 16
                bytes[i] = UInt8(bits & 0xFF)
                bytes[i + 1] = UInt8(bits >> 8)
            }
        case .f32:
            for i in stride(from: 0, to: bytes.count, by: 4) {
                let bits = Float((g.nextUnit() - 0.5) * 0.2).bitPattern
                for k in 0..<4 { bytes[i + k] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k))) }
            }
        default:
            let size = type.bytesPerBlock, blocks = bytes.count / size, perRow = columns / type.blockSize
            for b in 0..<blocks {
                let start = b * size
                if b % perRow == 1 { for i in start..<(start + size) { bytes[i] = 0xFF } }
                if b % perRow == 2 { for i in start..<(start + size) { bytes[i] = 0 } }
                for (k, field) in Self.halfFields(type).enumerated() {
                    putHalf(k == 0 ? (g.nextUnit() + 0.05) * 0.01 : (g.nextUnit() - 0.3) * 0.02, at: start + field)
                }
            }
        }
        self.bytes = bytes
    }

    /// The fp32 weights, from the file dequantizer (`GGMLType.dequantize`, tested element by element against the
    /// formats' definitions in `DequantTests`).
    func reference() throws -> [Float] {
        var out = [Float](repeating: .nan, count: rows * columns)
        try bytes.withUnsafeBytes { src in try out.withUnsafeMutableBufferPointer { try type.dequantize(src, into: $0) } }
        return out
    }

    func withRows<R>(_ body: (EncodedRows) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { try body(EncodedRows.make(type: type, rows: rows, columns: columns, bytes: $0).get()) }
    }
}

/// The native-weight kernels (`RowDecoder`, `QuantizedActivations`, `IntegerDot`, `FloatDot`, `NativeMatMul`) on
/// random blocks of every type, against the file dequantizer and fp64 products.
@Suite(.enabled(if: CPUFeatures.hasAVX2, "SKIPPED: the CPU lacks AVX2/FMA/F16C; the portable paths are tested elsewhere"))
struct NativeKernelTests {
    /// Columns per type: two super-blocks for the K types (their edge at 256), a few 32-blocks plus one for others.
    static func columns(_ t: GGMLType) -> Int { t.blockSize == 256 ? 512 : (t.blockSize == 1 ? 200 : 160) }

    @Test(arguments: EncodedFixture.types)
    func rowsDecodeToTheFileDequantizerBitForBit(type: GGMLType) throws {
        let f = EncodedFixture(type, rows: 5, columns: Self.columns(type), seed: 1)
        let reference = try f.reference()
        var out = [Float](repeating: .nan, count: reference.count)
        f.withRows { rows in
            out.withUnsafeMutableBufferPointer { RowDecoder.decode(rows, rows: 0..<5, into: $0.baseAddress!, ldo: f.columns) }
        }
        #expect(out.map(\.bitPattern) == reference.map(\.bitPattern))
    }

    @Test func activationsQuantizeToTheNearestStep() {
        var g = SeededGenerator(seed: 4)
        let columns = 96
        var x = (0..<3 * columns).map { _ in (g.nextUnit() - 0.5) * 8 }
        for i in 32..<64 { x[i] = 0 }                       // an all-zero block: scale 0, q 0
        x[70] = -4.5                                       // the block's largest magnitude is negative
        let q = QuantizedActivations(rows: 3, columns: columns)
        x.withUnsafeBufferPointer { q.quantize($0.baseAddress!, rows: 3, ldx: columns) }
        for block in 0..<(3 * columns / 32) {
            let r = block / q.blocksPerRow, b = block % q.blocksPerRow
            let values = (0..<32).map { x[block * 32 + $0] }
            let largest = values.map(abs).max()!
            let scale = q.scale(row: r, block: b)
            #expect(scale == largest / 127)
            var sum = 0
            for i in 0..<32 {
                let qi = Int(q.value(row: r, 32 * b + i))
                sum += qi
                #expect(abs(qi) <= 127)
                #expect(abs(Double(values[i]) - Double(scale) * Double(qi)) <= Double(scale) / 2 * 1.0001)
            }
            #expect(q.sum(row: r, block: b) == scale * Float(sum))
        }
        #expect(q.value(row: 0, 70) == -127)
        // Every row ends with a zero block (a pair kernel reads past an odd last block).
        #expect(q.scale(row: 1, block: q.blocksPerRow) == 0 && q.value(row: 1, 32 * q.blocksPerRow + 5) == 0)
    }

    /// 16-bit activations are exact to half a step of 1/32767 of each block's largest value.
    @Test func wideActivationsAreExactToSixteenBits() {
        var g = SeededGenerator(seed: 14)
        let x = (0..<2 * 64).map { _ in (g.nextUnit() - 0.5) * 8 }
        let q = QuantizedActivations(rows: 2, columns: 64, wide: true)
        x.withUnsafeBufferPointer { q.quantize($0.baseAddress!, rows: 2, ldx: 64) }
        for i in x.indices {
            let row = i / 64, j = i % 64, b = j / 32
            let scale = Double(q.scale(row: row, block: b)), value = Double(q.value(row: row, j))
            #expect(abs(value) <= 32767)
            #expect(abs(scale * value - Double(x[i])) <= scale / 2 * 1.001, "element \(i)")
        }
        var sum = 0
        for j in 0..<32 { sum += q.value(row: 1, 32 + j) }
        #expect(q.sum(row: 1, block: 1) == q.scale(row: 1, block: 1) * Float(sum))
    }

    /// Dot products of every type (2 super-blocks or 5 blocks per row, 5 rows × 3 activation rows) against the fp64
    /// product of the dequantized weights with the activations the kernel saw (quantized to 8 or 16 bits for integer
    /// types).
    @Test(arguments: EncodedFixture.types, [false, true])
    func dotProductsMatchFP64(type: GGMLType, wide: Bool) throws {
        let columns = Self.columns(type) == 200 ? 208 : Self.columns(type)
        let f = EncodedFixture(type, rows: 5, columns: columns, seed: 2)
        let w = try f.reference()
        var g = SeededGenerator(seed: 3)
        let xRows = 3, ldx = columns + 5, ldy = 9
        let x = (0..<xRows * ldx).map { _ in (g.nextUnit() - 0.5) * 4 }
        for accumulate in [false, true] {
            let initial = (0..<xRows * ldy).map { _ in g.nextUnit() }
            var y = initial
            var seen = [Double](repeating: 0, count: xRows * columns)
            f.withRows { rows in
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        if IntegerDot.handles(type) {
                            let q = QuantizedActivations(rows: xRows, columns: columns, wide: wide)
                            q.quantize(xp.baseAddress!, rows: xRows, ldx: ldx)
                            for i in 0..<(xRows * columns) {
                                let row = i / columns, j = i % columns
                                seen[i] = Double(q.scale(row: row, block: j / 32)) * Double(q.value(row: row, j))
                            }
                            IntegerDot.product(rows, rows: 1..<5, x: q, xRows: xRows, into: yp.baseAddress! + 1, ldy: ldy,
                                               accumulate: accumulate)
                        } else {
                            for r in 0..<xRows { for i in 0..<columns { seen[r * columns + i] = Double(x[r * ldx + i]) } }
                            FloatDot.product(rows, rows: 1..<5, x: xp.baseAddress!, ldx: ldx, xRows: xRows,
                                             into: yp.baseAddress! + 1, ldy: ldy, accumulate: accumulate)
                        }
                    }
                }
            }
            for r in 0..<xRows {
                for j in 0..<ldy {
                    let got = Double(y[r * ldy + j])
                    // Weight rows 1…4 land in columns 1…4 (the product writes from `y + 1`).
                    guard (1...4).contains(j) else {
                        #expect(y[r * ldy + j] == initial[r * ldy + j], "\(type): column \(j) is outside the rows asked for")
                        continue
                    }
                    var exact = accumulate ? Double(initial[r * ldy + j]) : 0, magnitude = abs(exact)
                    for i in 0..<columns {
                        let p = Double(w[j * columns + i]) * seen[r * columns + i]
                        exact += p
                        magnitude += abs(p)
                    }
                    #expect(abs(got - exact) <= 2e-6 * magnitude + 1e-7, "\(type) row \(j) × x\(r): \(got) vs \(exact)")
                }
            }
        }
    }

    /// A model-shaped product: Q (q5_0), K (q4_K) and V (q8_0) stacked, columns 512, against the fp64 product with
    /// the dequantized weights and the unquantized activations, through both paths (dot: activations quantized, so
    /// within their rounding; panels: exact fp32 sgemm), with strides and accumulation; and the transposed product.
    @Test func stackedMixedTypesThroughBothPaths() throws {
        let columns = 512
        let parts = [EncodedFixture(.q5_0, rows: 70, columns: columns, seed: 5),
                     EncodedFixture(.q4_K, rows: 33, columns: columns, seed: 6),
                     EncodedFixture(.q8_0, rows: 29, columns: columns, seed: 7)]
        let w = try parts.flatMap { try $0.reference() }
        let n = 132
        var g = SeededGenerator(seed: 8)
        try parts[0].bytes.withUnsafeBytes { b0 in
            try parts[1].bytes.withUnsafeBytes { b1 in
                try parts[2].bytes.withUnsafeBytes { b2 in
                    let encoded = try zip(parts, [b0, b1, b2]).map {
                        try EncodedRows.make(type: $0.type, rows: $0.rows, columns: columns, bytes: $1).get()
                    }
                    let m = NativeMatrix(columns: columns, parts: encoded, owner: nil)
                    #expect(m.rows == n)
                    for (rows, path) in [(1, NativeMatMul.Path.dot), (5, .dot), (5, .panels), (40, .panels)] {
                        let ldx = columns + 3, ldy = n + 2
                        let x = (0..<rows * ldx).map { _ in (g.nextUnit() - 0.5) * 2 }
                        let initial = (0..<rows * ldy).map { _ in g.nextUnit() }
                        var y = initial
                        x.withUnsafeBufferPointer { xp in
                            y.withUnsafeMutableBufferPointer { yp in
                                NativeMatMul.projection(xp.baseAddress!, rows: rows, ldx: ldx, weight: m, into: yp.baseAddress!,
                                                        ldy: ldy, accumulate: true, path: path)
                            }
                        }
                        for r in 0..<rows {
                            for j in 0..<n {
                                var exact = Double(initial[r * ldy + j]), magnitude = 0.0, scale = 0.0
                                for i in 0..<columns {
                                    let p = Double(w[j * columns + i]) * Double(x[r * ldx + i])
                                    exact += p
                                    magnitude += abs(p)
                                    scale += abs(Double(w[j * columns + i]))
                                }
                                // Panels: fp32 rounding only. Dot: plus the activations' rounding, at most half a step
                                // (≤ 1/254 of the block's largest |x| ≤ 1) per weight.
                                let bound = path == .panels ? 1e-5 * magnitude + 1e-6 : scale / 254 + 1e-5 * magnitude
                                #expect(abs(Double(y[r * ldy + j]) - exact) <= bound, "\(path) rows \(rows) at [\(r), \(j)]")
                            }
                            #expect(y[r * ldy + n] == initial[r * ldy + n] && y[r * ldy + n + 1] == initial[r * ldy + n + 1])
                        }
                    }
                    // dX = dY · W.
                    let rows = 6
                    let dY = (0..<rows * n).map { _ in (g.nextUnit() - 0.5) * 2 }
                    var dX = [Float](repeating: .nan, count: rows * columns)
                    dY.withUnsafeBufferPointer { dp in
                        dX.withUnsafeMutableBufferPointer { xp in
                            NativeMatMul.transposedProduct(dp.baseAddress!, rows: rows, weight: m, into: xp.baseAddress!)
                        }
                    }
                    for r in 0..<rows {
                        for i in 0..<columns {
                            var exact = 0.0, magnitude = 0.0
                            for j in 0..<n {
                                let p = Double(dY[r * n + j]) * Double(w[j * columns + i])
                                exact += p
                                magnitude += abs(p)
                            }
                            #expect(abs(Double(dX[r * columns + i]) - exact) <= 1e-5 * magnitude + 1e-6, "dX[\(r), \(i)]")
                        }
                    }
                }
            }
        }
    }

    @Test func viewsRefuseTypesWithoutKernelsPartialBlocksAndTruncatedData() {
        let bytes = [UInt8](repeating: 0, count: 100)
        bytes.withUnsafeBytes { b in
            #expect(EncodedRows.make(type: .iq2_xs, rows: 1, columns: 256, bytes: b) == .failure(.noKernel(.iq2_xs)))
            #expect(EncodedRows.make(type: .q4_K, rows: 1, columns: 128, bytes: b) == .failure(.partialBlock(.q4_K, columns: 128)))
            #expect(EncodedRows.make(type: .q8_0, rows: 3, columns: 32, bytes: b) == .failure(.truncated(.q8_0, needed: 102, found: 100)))
        }
        #expect("\(EncodedRows.Failure.noKernel(.iq2_xs))".contains("supported: f32, f16, q4_0"))
    }
}
