import Engine
import Foundation
import ModelFormats
import QuantizedKernels
import Testing
import TestSupport

/// Encoded rows that own their bytes (a test's stand-in for a file's memory map).
final class OwnedRows {
    let storage: UnsafeMutableRawBufferPointer
    let rows: EncodedRows

    init(_ type: GGMLType, rows: Int, columns: Int, bytes: [UInt8]) {
        storage = .allocate(byteCount: max(bytes.count, 1), alignment: 64)
        storage.copyBytes(from: bytes)
        self.rows = try! EncodedRows.make(type: type, rows: rows, columns: columns, bytes: UnsafeRawBufferPointer(storage)).get()
    }

    deinit { storage.deallocate() }
}

/// `QuantizedMatMul` (the fp32 policy's decode kernel) against the file-format dequantizer and a plain fp64 product.
@Suite(.enabled(if: CPUFeatures.hasAVX2, "SKIPPED: the CPU lacks AVX2/FMA/F16C"))
struct QuantizedMatMulTests {
    /// Random blocks of `format`: `rows × columns` weights with finite f16 scales.
    func blocks(_ format: GGMLType, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
        var g = SeededGenerator(seed: seed)
        var bytes = [UInt8]()
        func half(_ x: Float) {
            let bits = Float16(x).bitPattern
            bytes += [UInt8(bits & 0xFF), UInt8(bits >> 8)]
        }
        for _ in 0..<(rows * columns / 32) {
            switch format {
            case .q4_1:
                half((g.nextUnit() + 0.01) * 0.05)
                half((g.nextUnit() - 0.5) * 0.8)
                for _ in 0..<16 { bytes.append(UInt8(truncatingIfNeeded: g.next())) }
            default:
                half((g.nextUnit() - 0.5) * 0.02)
                for _ in 0..<32 { bytes.append(UInt8(truncatingIfNeeded: g.next())) }
            }
        }
        return bytes
    }

    func matrix(_ format: GGMLType, _ bytes: [UInt8], rows: Int, columns: Int) -> OwnedRows {
        OwnedRows(format, rows: rows, columns: columns, bytes: bytes)
    }

    func dequantized(_ format: GGMLType, _ bytes: [UInt8], count: Int) throws -> [Float] {
        var out = [Float](repeating: 0, count: count)
        try bytes.withUnsafeBytes { src in
            try out.withUnsafeMutableBufferPointer { try format.dequantize(src, into: $0) }
        }
        return out
    }

    func dequantizeRow(_ m: OwnedRows, _ r: Int, into out: UnsafeMutablePointer<Float>) {
        RowDecoder.decode(m.rows, rows: r..<(r + 1), into: out, ldo: m.rows.columns)
    }

    @Test func handMadeQ4_1BlockDequantizesToDQPlusM() {
        // d = 0.5, m = −1, qs[j] = j | (15 − j) << 4: x[j] = 0.5·j − 1, x[j+16] = 0.5·(15 − j) − 1.
        var bytes: [UInt8] = [0x00, 0x38, 0x00, 0xBC]
        for j in 0..<16 { bytes.append(UInt8(j) | UInt8(15 - j) << 4) }
        let m = matrix(.q4_1, bytes, rows: 1, columns: 32)
        var row = [Float](repeating: 0, count: 32)
        row.withUnsafeMutableBufferPointer { dequantizeRow(m, 0, into: $0.baseAddress!) }
        for j in 0..<16 {
            #expect(row[j] == 0.5 * Float(j) - 1)
            #expect(row[j + 16] == 0.5 * Float(15 - j) - 1)
        }
    }

    @Test func handMadeQ8_0BlockDequantizesToDQ() {
        var bytes: [UInt8] = [0x00, 0x34]  // d = 0.25
        for j in 0..<32 { bytes.append(UInt8(bitPattern: Int8(j * 8 - 128))) }
        let m = matrix(.q8_0, bytes, rows: 1, columns: 32)
        var row = [Float](repeating: 0, count: 32)
        row.withUnsafeMutableBufferPointer { dequantizeRow(m, 0, into: $0.baseAddress!) }
        for j in 0..<32 { #expect(row[j] == 0.25 * Float(j * 8 - 128)) }
    }

    /// Rows dequantize bit for bit to what the file-format dequantizer gives (the model's fp32 weights).
    @Test(arguments: [GGMLType.q4_1, .q8_0])
    func rowsMatchTheFileDequantizerExactly(format: GGMLType) throws {
        let rows = 7, columns = 96
        let bytes = blocks(format, rows: rows, columns: columns, seed: 11)
        let reference = try dequantized(format, bytes, count: rows * columns)
        let m = matrix(format, bytes, rows: rows, columns: columns)
        var out = [Float](repeating: .nan, count: rows * columns)
        out.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows { dequantizeRow(m, r, into: p.baseAddress! + r * columns) }
        }
        #expect(out.map(\.bitPattern) == reference.map(\.bitPattern))
    }

    /// Each output sums its own lanes in a fixed order, so a row multiplied alone gives the same bits as inside a
    /// batch of 1…17 rows (two- and one-row blocks) — a decode step's answer does not depend on the batch. A row
    /// alone takes the other path (`singleRowPanel4`, blocks dequantized in registers), so this also pins that
    /// path to the bits of the scratch-and-`panel4` one.
    @Test(arguments: [GGMLType.q4_1, .q8_0])
    func aRowsResultDoesNotDependOnTheRowsBesideIt(format: GGMLType) throws {
        var g = SeededGenerator(seed: 9)
        let n = 67
        let m = matrix(format, blocks(format, rows: n, columns: 224, seed: 3), rows: n, columns: 224)
        let x = (0..<17 * 224).map { _ in g.nextUnit() * 2 - 1 }
        func product(rows: Int, from first: Int) -> [Float] {
            var y = [Float](repeating: 0, count: rows * n)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    QuantizedMatMul.projection(xp.baseAddress! + first * 224, rows: rows, inFeatures: 224, weight: m.rows,
                                               into: yp.baseAddress!, threads: 2)
                }
            }
            return y
        }
        for rows in 1...17 {
            let batch = product(rows: rows, from: 0)
            for r in 0..<rows {
                let alone = product(rows: 1, from: r)
                #expect(Array(batch[r * n..<(r + 1) * n]).map(\.bitPattern) == alone.map(\.bitPattern), "row \(r) of \(rows)")
            }
        }
    }

    /// Random shapes (rows 1…17, n not a multiple of the 4-row panel nor of the thread split), strided x and y,
    /// with and without accumulation, against an fp64 product of the dequantized weights.
    @Test(arguments: [GGMLType.q4_1, .q8_0])
    func productMatchesFP64Reference(format: GGMLType) throws {
        var g = SeededGenerator(seed: 5)
        let shapes = [(1, 1, 32), (2, 3, 64), (3, 5, 96), (5, 67, 576), (16, 130, 160), (17, 259, 1536), (1, 1031, 576)]
        for (index, (rows, n, k)) in shapes.enumerated() {
            let bytes = blocks(format, rows: n, columns: k, seed: UInt64(100 + index))
            let w = try dequantized(format, bytes, count: n * k)
            let m = matrix(format, bytes, rows: n, columns: k)
            let ldx = k + 3, ldy = n + 2
            let x = (0..<rows * ldx).map { _ in g.nextUnit() * 2 - 1 }
            for accumulate in [false, true] {
                let initial = (0..<rows * ldy).map { _ in g.nextUnit() }
                var y = initial
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeMutableBufferPointer { yp in
                        QuantizedMatMul.projection(xp.baseAddress!, rows: rows, inFeatures: k, ldx: ldx, weight: m.rows,
                                                   into: yp.baseAddress!, ldy: ldy, accumulate: accumulate,
                                                   threads: 2)
                    }
                }
                for r in 0..<rows {
                    for j in 0..<ldy {
                        guard j < n else {
                            #expect(y[r * ldy + j] == initial[r * ldy + j], "padding touched")
                            continue
                        }
                        var exact = accumulate ? Double(initial[r * ldy + j]) : 0, magnitude = abs(exact)
                        for i in 0..<k {
                            let p = Double(x[r * ldx + i]) * Double(w[j * k + i])
                            exact += p
                            magnitude += abs(p)
                        }
                        let error = abs(Double(y[r * ldy + j]) - exact)
                        #expect(error <= 1e-6 * magnitude + 1e-7, "rows \(rows) n \(n) k \(k) at [\(r), \(j)]")
                    }
                }
            }
        }
    }
}

/// The model's decode steps through the q4_1/q8_0 blocks kept beside the fp32 weights (fp32 policy) against the
/// same steps on the fp32 weights alone.
@Suite(.enabled(if: Fixtures.hasModel && CPUFeatures.hasAVX2, Fixtures.noModel))
struct QuantizedDecodeTests {
    @Test func decodeStepsMatchTheFP32Path() throws {
        let quantized = try #require(SharedModel.model)
        let w = quantized.weights
        #expect(w.head.encoded != nil && w.blocks.allSatisfy { b in b.projections.allSatisfy { $0.encoded != nil && !$0.isNative } })
        var fp32 = quantized
        for l in fp32.weights.blocks.indices {
            fp32.weights.blocks[l].qkv.encoded = nil
            fp32.weights.blocks[l].attentionOutput.encoded = nil
            fp32.weights.blocks[l].gateUp.encoded = nil
            fp32.weights.blocks[l].down.encoded = nil
        }
        fp32.weights.tokenEmbedding.encoded = nil
        let prompts = [[1, 504, 3458, 282, 4649, 314], [1, 28, 29, 30], [1, 9690, 198]]
        var a = prompts.map { ForwardItem(tokens: $0, cache: quantized.makeCache()) }
        var b = prompts.map { ForwardItem(tokens: $0, cache: fp32.makeCache()) }
        for step in 0..<6 {
            let oa = quantized.forward(&a), ob = fp32.forward(&b)
            for i in prompts.indices {
                let la = Array(oa[i].lastLogits), lb = Array(ob[i].lastLogits)
                let maxAbs = zip(la, lb).map { abs($0 - $1) }.max()!
                #expect(maxAbs < 1e-3, "step \(step), sequence \(i): max |Δlogit| \(maxAbs)")
                let next = la.indices.max { la[$0] < la[$1] }!
                #expect(next == lb.indices.max { lb[$0] < lb[$1] }!)
                a[i].tokens = [next]
                b[i].tokens = [next]
            }
        }
    }
}
