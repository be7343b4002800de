import Foundation
import ModelFormats
import Testing
import TestSupport

/// SHA-256 against the FIPS 180-2 / NIST CSRC example vectors and files with published digests.
@Suite struct SHA256Tests {
    // NIST "SHA256.pdf" examples (csrc.nist.gov, Cryptographic Standards and Guidelines, example values)
    // and FIPS 180-2 Appendix B.
    @Test func emptyMessage() {
        #expect(SHA256.hex(of: Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func abc() {
        #expect(SHA256.hex(ofUTF8: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func fourHundredFortyEightBitMessage() {
        let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(SHA256.hex(ofUTF8: message) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func oneMillionA() {
        #expect(SHA256.hex(of: Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Streaming in uneven pieces (crossing block boundaries) gives the one-shot digest.
    @Test func streamingInOddPiecesMatchesOneShot() {
        var hasher = SHA256()
        let piece = Array("a".utf8)
        var fed = 0
        var size = 1
        while fed < 1_000_000 {
            let n = min(size, 1_000_000 - fed)
            hasher.update([UInt8](repeating: piece[0], count: n))
            fed += n
            size = size % 131 + 7
        }
        #expect(hasher.finalizeHex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Dataset files hashed from disk, against the sha256 column of shared/datasets/SOURCES.md.
    @Test(.enabled(if: Fixtures.hasPaperData, Fixtures.noPaperData),
          arguments: [
              ("facts_true_false/facts_true_false.csv", "151b6163289460eb8b37f7c6a1998e23aed8e05b5e557bf1a2297079bf0e5af9"),
              ("gpt4_facts/gpt4_facts.csv", "3542ca445047afd8b1306d864ee54b5f84fc550db45a0f3181153d6439636744"),
              ("truthfulqa/TruthfulQA.csv", "8d7dd15f033196140f032d97d30f037da7a7b1192c3f36f9937c1850925335a2"),
              ("wikitext-2-raw/wiki.test.raw", "4f3e427e4aff23acff917a8a51aeae21bf12832256e26914c8fc250dcef4103c"),
          ])
    func datasetFile(path: String, expected: String) throws {
        #expect(try SHA256.hex(ofFileAt: Fixtures.datasets.appendingPathComponent(path)) == expected)
    }

    /// The 98 MB default model, against its published sha256 (multi-chunk file path).
    @Test(.enabled(if: Fixtures.hasModel, Fixtures.noModel))
    func defaultModelFile() throws {
        #expect(try SHA256.hex(ofFileAt: Fixtures.defaultModel)
            == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
    }

    @Test func missingFileIsAClearError() throws {
        let url = URL(fileURLWithPath: "/nonexistent/reptune/file.bin")
        do {
            _ = try SHA256.hex(ofFileAt: url)
            Issue.record("expected an error")
        } catch let error as SHA256FileError {
            #expect(error.description.contains("/nonexistent/reptune/file.bin"))
        }
    }
}
