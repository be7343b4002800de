import Foundation
import ModelFormats
import Testing
import TestSupport

/// SHA-256 against the FIPS 180-4 / NIST example vectors and the published digest of the model file.
struct SHA256Tests {
    @Test func nistVectors() {
        #expect(SHA256.hex(of: "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(of: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(of: Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func streamingInOddChunksEqualsOneShot() {
        let data = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        var h = SHA256()
        var i = 0
        for size in [1, 63, 64, 65, 7, 200, 600] {
            h.update(data[i..<min(i + size, data.count)])
            i = min(i + size, data.count)
        }
        #expect(h.finalizeHex() == SHA256.hex(of: data))
    }

    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func modelFileDigest() throws {
        #expect(try SHA256.hex(ofFileAt: Fixtures.defaultModel) == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
    }
}
