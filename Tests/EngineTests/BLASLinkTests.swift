import CBLAS
import Testing

/// The system-library target links OpenBLAS: a 2×2 product through cblas_sgemm.
@Test func sgemmLinksAndMultiplies() {
    let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
    var c = [Float](repeating: 0, count: 4)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1, a, 2, b, 2, 0, &c, 2)
    #expect(c == [19, 22, 43, 50])
}
