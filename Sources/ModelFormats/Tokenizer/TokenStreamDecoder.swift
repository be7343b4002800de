/// Turns generated token ids into text as they arrive: bytes of a character split across tokens are held back
/// until the character is complete, so a stream never shows half an emoji. `finish()` flushes what is left.
public struct TokenStreamDecoder: Sendable {
    public let tokenizer: Tokenizer
    public var skipSpecial: Bool
    private var pending: [UInt8] = []
    private var started = false

    public init(tokenizer: Tokenizer, skipSpecial: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// The text completed by token `id` (possibly empty).
    public mutating func append(_ id: Int) -> String {
        let piece = tokenizer.decodeBytes([id], skipSpecial: skipSpecial, stripSpacePrefix: !started)
        if !piece.isEmpty || !tokenizer.decodeBytes([id], skipSpecial: skipSpecial, stripSpacePrefix: false).isEmpty {
            started = true
        }
        pending += piece
        let complete = Self.completePrefixLength(pending)
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Whatever is held back (an incomplete character becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// The length of `bytes` without a trailing incomplete UTF-8 sequence.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var i = n - 1
        var continuation = 0
        while i >= 0 && continuation < 3 && bytes[i] & 0xC0 == 0x80 { i -= 1; continuation += 1 }
        guard i >= 0 else { return n }
        let lead = bytes[i]
        let needed = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0
        return needed > continuation ? i : n
    }
}
