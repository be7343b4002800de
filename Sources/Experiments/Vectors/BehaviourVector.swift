import CBLAS
import Engine
import Foundation

/// How a behaviour direction is found from contrast activations (METHOD.md §3).
public enum VectorMethod: Sendable, Equatable, Codable {
    /// Mean over pairs of (honest − dishonest).
    case meanDifference
    /// Principal component `component` (1-based) of the pooled activations (`onDifferences == false`, centred)
    /// or of the pair differences; sign chosen so honest members project higher in most pairs.
    case pca(component: Int, onDifferences: Bool)
}

/// A unit direction per layer, with the diagnostics of how well it separates the two behaviours.
public struct BehaviourVector: Sendable, Equatable {
    /// Diagnostics of one layer's direction.
    public struct LayerDiagnostics: Sendable, Equatable, Codable {
        /// Area under the ROC curve of honest vs dishonest projections (0.5 = no separation).
        public var auroc: Double
        /// Share of variance along the direction (PCA: eigenvalue / total; mean difference: of the pooled data).
        public var explainedVariance: Double
        /// Norm of the direction before normalisation.
        public var norm: Double
    }

    public var method: VectorMethod
    /// Unit vector per layer.
    public var directions: [Int: [Float]]
    public var diagnostics: [Int: LayerDiagnostics]

    /// Finds the direction at every layer of `honest` / `dishonest` (paired: row i of each is one pair).
    public init(method: VectorMethod, honest: ActivationMatrix, dishonest: ActivationMatrix) {
        self.method = method
        var directions = [Int: [Float]](), diagnostics = [Int: LayerDiagnostics]()
        let d = honest.width, n = min(honest.count, dishonest.count)
        for layer in honest.layers {
            let h = honest.rows[layer]!, x = dishonest.rows[layer]!
            var diff = [Double](repeating: 0, count: n * d)
            for i in 0..<(n * d) { diff[i] = Double(h[i]) - Double(x[i]) }
            var v: [Double]
            var explained = 0.0
            switch method {
            case .meanDifference:
                v = (0..<d).map { j in (0..<n).reduce(0.0) { $0 + diff[$1 * d + j] } / Double(n) }
            case .pca(let k, let onDifferences):
                let data: [Double] = onDifferences ? diff : (h + x).map(Double.init)
                let (vector, share) = Self.principalComponent(data, rows: onDifferences ? n : 2 * n, width: d, k: k,
                                                               center: !onDifferences)
                v = vector
                explained = share
                // Sign: honest members project higher in most pairs.
                let votes = (0..<n).reduce(0) { count, i in
                    count + ((0..<d).reduce(0.0) { $0 + diff[i * d + $1] * v[$1] } > 0 ? 1 : -1)
                }
                if votes < 0 { v = v.map { -$0 } }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let unit = v.map { Float($0 / max(norm, 1e-30)) }
            let project = { (m: [Float], i: Int) in (0..<d).reduce(0.0) { $0 + Double(m[i * d + $1]) * Double(unit[$1]) } }
            let ph = (0..<n).map { project(h, $0) }, px = (0..<n).map { project(x, $0) }
            if case .meanDifference = method { explained = Self.varianceShare(h + x, rows: 2 * n, width: d, along: unit) }
            directions[layer] = unit
            diagnostics[layer] = LayerDiagnostics(auroc: Self.auroc(positive: ph, negative: px), explainedVariance: explained,
                                                  norm: norm)
        }
        self.directions = directions
        self.diagnostics = diagnostics
    }

    /// AUROC of this vector's projections on other activations (e.g. held-out pairs) at `layer`.
    public func auroc(layer: Int, honest: ActivationMatrix, dishonest: ActivationMatrix) -> Double {
        guard let u = directions[layer], let h = honest.rows[layer], let x = dishonest.rows[layer] else { return 0.5 }
        let d = honest.width
        let project = { (m: [Float], i: Int) in (0..<d).reduce(0.0) { $0 + Double(m[i * d + $1]) * Double(u[$1]) } }
        return Self.auroc(positive: (0..<honest.count).map { project(h, $0) }, negative: (0..<dishonest.count).map { project(x, $0) })
    }

    /// Probability that a random honest projection exceeds a random dishonest one (ties count half).
    public static func auroc(positive: [Double], negative: [Double]) -> Double {
        guard !positive.isEmpty && !negative.isEmpty else { return 0.5 }
        var wins = 0.0
        for p in positive { for q in negative { wins += p > q ? 1 : (p == q ? 0.5 : 0) } }
        return wins / Double(positive.count * negative.count)
    }

    /// Share of the pooled (centred) variance along the unit vector `u`.
    static func varianceShare(_ data: [Float], rows: Int, width d: Int, along u: [Float]) -> Double {
        let mean = (0..<d).map { j in (0..<rows).reduce(0.0) { $0 + Double(data[$1 * d + j]) } / Double(rows) }
        var total = 0.0, along = 0.0
        for i in 0..<rows {
            var p = 0.0
            for j in 0..<d {
                let c = Double(data[i * d + j]) - mean[j]
                total += c * c
                p += c * Double(u[j])
            }
            along += p * p
        }
        return total > 0 ? along / total : 0
    }

    /// The k-th principal component (1-based, by decreasing variance) via LAPACK's symmetric eigensolver on the
    /// `d × d` covariance, and its share of the variance.
    static func principalComponent(_ data: [Double], rows: Int, width d: Int, k: Int, center: Bool) -> ([Double], Double) {
        var x = data
        if center {
            for j in 0..<d {
                let m = (0..<rows).reduce(0.0) { $0 + x[$1 * d + j] } / Double(rows)
                for i in 0..<rows { x[i * d + j] -= m }
            }
        }
        var cov = [Double](repeating: 0, count: d * d)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(d), Int32(rows), 1 / Double(max(rows - 1, 1)),
                    x, Int32(d), x, Int32(d), 0, &cov, Int32(d))
        var n = Int32(d), lda = Int32(d), info: Int32 = 0
        var w = [Double](repeating: 0, count: d)
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workQuery = 0.0, iworkQuery: Int32 = 0
        var jobz = CChar(UInt8(ascii: "V")), uplo = CChar(UInt8(ascii: "U"))
        dsyevd_(&jobz, &uplo, &n, &cov, &lda, &w, &workQuery, &lwork, &iworkQuery, &liwork, &info)
        lwork = Int32(workQuery)
        liwork = iworkQuery
        var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jobz, &uplo, &n, &cov, &lda, &w, &work, &lwork, &iwork, &liwork, &info)
        // Eigenvalues ascend; column-major eigenvectors are rows of `cov` as seen row-major.
        let index = max(0, d - max(k, 1))
        let vector = (0..<d).map { cov[index * d + $0] }
        let total = w.reduce(0, +)
        return (vector, total > 0 ? w[index] / total : 0)
    }

    /// The directions as a llama.cpp control vector (direction.N applied to the output of block N).
    public var controlVector: ControlVectorFile { ControlVectorFile(directions: directions) }
}
