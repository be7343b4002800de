extension Tokenizer {
    /// How byte-level BPE cuts text into words before merging: the regular expressions llama.cpp and Hugging Face
    /// use, implemented as hand-written matchers over Unicode scalars (letters `\p{L}` and numbers `\p{N}` by
    /// general category, `\s` by the White_Space property). Matching follows regex semantics: at each position
    /// the first alternative that matches wins, and the next match starts where it ended.
    public enum PreTokenizer: String, Sendable, Equatable, CaseIterable {
        /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
        case gpt2
        /// Every `\p{N}` on its own first, then `gpt2` on the rest (SmolLM2, StarCoder).
        case smollm
        /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
        case llama3
        /// As `llama3` with single numbers: `…|\p{N}|…` (Qwen2).
        case qwen2

        /// The pre-tokenizer `tokenizer.ggml.pre` names, accepting llama.cpp's aliases.
        public init?(ggufName: String) {
            switch ggufName {
            case "default", "gpt2", "gpt-2": self = .gpt2
            case "smollm", "starcoder", "refact", "codeshell": self = .smollm
            case "llama3", "llama-bpe", "llama-v3": self = .llama3
            case "qwen2", "stablelm2": self = .qwen2
            default: return nil
            }
        }

        /// Names accepted by `init(ggufName:)`, for error messages.
        public static let ggufNames = ["default", "gpt2", "smollm", "starcoder", "refact", "codeshell", "llama3",
                                       "llama-bpe", "qwen2", "stablelm2"]

        /// The words `text` is cut into (for inspection and tests; `encode` works on scalars directly).
        public func words(in text: String) -> [String] {
            var scalars = text.unicodeScalars.map(\.value)
            var out: [String] = []
            scalars.withUnsafeMutableBufferPointer { b in
                let s = UnsafeBufferPointer(b)
                split(s, 0..<s.count) { r in
                    out.append(String(String.UnicodeScalarView(r.compactMap { Unicode.Scalar(s[$0]) })))
                }
            }
            return out
        }

        /// Splits `scalars[range]` into words, calling `emit` with each word's range in order; the words tile
        /// the range exactly.
        func split(_ scalars: UnsafeBufferPointer<UInt32>, _ range: Range<Int>, _ emit: (Range<Int>) -> Void) {
            var classes = CharacterClasses(scalars)
            switch self {
            case .gpt2:
                Self.splitGPT2(&classes, range, emit)
            case .smollm:
                var start = range.lowerBound
                var i = start
                while i < range.upperBound {
                    if classes.isNumber(i) {
                        if start < i { Self.splitGPT2(&classes, start..<i, emit) }
                        emit(i..<(i + 1))
                        start = i + 1
                    }
                    i += 1
                }
                if start < range.upperBound { Self.splitGPT2(&classes, start..<range.upperBound, emit) }
            case .llama3:
                Self.splitLlama3(&classes, range, maxDigits: 3, emit)
            case .qwen2:
                Self.splitLlama3(&classes, range, maxDigits: 1, emit)
            }
        }

        private static func splitGPT2(_ c: inout CharacterClasses, _ range: Range<Int>, _ emit: (Range<Int>) -> Void) {
            let end = range.upperBound
            var i = range.lowerBound
            while i < end {
                let n = matchGPT2(&c, i, end)
                emit(i..<(i + n))
                i += n
            }
        }

        /// Length of the `gpt2` match at `i` (always ≥ 1).
        private static func matchGPT2(_ c: inout CharacterClasses, _ i: Int, _ end: Int) -> Int {
            let s = c.scalars
            if let n = contraction(s, i, end, caseInsensitive: false) { return n }
            var start = i
            if s[i] == 0x20, i + 1 < end, !c.isSpace(i + 1) { start = i + 1 }  // ` ?` before a word
            if c.isLetter(start) { return c.run(from: start, end, c.isLetter) - i }
            if c.isNumber(start) { return c.run(from: start, end, c.isNumber) - i }
            if !c.isSpace(start) { return c.run(from: start, end, c.isOther) - i }
            return whitespace(&c, i, end)
        }

        private static func splitLlama3(_ c: inout CharacterClasses, _ range: Range<Int>, maxDigits: Int,
                                        _ emit: (Range<Int>) -> Void) {
            let end = range.upperBound
            let s = c.scalars
            var i = range.lowerBound
            while i < end {
                var n: Int
                if let k = contraction(s, i, end, caseInsensitive: true) {
                    n = k
                } else if c.isLetter(i) {
                    n = c.run(from: i, end, c.isLetter) - i
                } else if !c.isNewline(i), !c.isNumber(i), i + 1 < end, c.isLetter(i + 1) {
                    n = c.run(from: i + 1, end, c.isLetter) - i  // [^\r\n\p{L}\p{N}]?\p{L}+
                } else if c.isNumber(i) {
                    var j = i + 1
                    while j < end, j - i < maxDigits, c.isNumber(j) { j += 1 }
                    n = j - i
                } else if c.isOther(i) || (s[i] == 0x20 && i + 1 < end && c.isOther(i + 1)) {
                    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
                    var j = c.run(from: s[i] == 0x20 ? i + 1 : i, end, c.isOther)
                    while j < end, c.isNewline(j) { j += 1 }
                    n = j - i
                } else {
                    // whitespace: `\s*[\r\n]+` ends after the run's last newline, else `\s+(?!\S)|\s+`
                    let j = c.run(from: i, end, c.isSpace)
                    var lastNewline = -1
                    var k = j - 1
                    while k >= i { if c.isNewline(k) { lastNewline = k; break }; k -= 1 }
                    n = lastNewline >= 0 ? lastNewline + 1 - i : whitespace(&c, i, end)
                }
                emit(i..<(i + n))
                i += n
            }
        }

        /// `'s|'t|'re|'ve|'m|'ll|'d` at `i` (ASCII apostrophe only), optionally case-insensitive.
        private static func contraction(_ s: UnsafeBufferPointer<UInt32>, _ i: Int, _ end: Int,
                                        caseInsensitive: Bool) -> Int? {
            guard s[i] == 0x27, i + 1 < end else { return nil }
            func lower(_ v: UInt32) -> UInt32 {
                caseInsensitive && v >= 0x41 && v <= 0x5A ? v + 0x20 : v
            }
            let a = lower(s[i + 1])
            switch a {
            case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
            case 0x72, 0x76:  // re ve
                return i + 2 < end && lower(s[i + 2]) == 0x65 ? 3 : nil
            case 0x6C:  // ll
                return i + 2 < end && lower(s[i + 2]) == 0x6C ? 3 : nil
            default: return nil
            }
        }

        /// `\s+(?!\S)|\s+` at a whitespace character `i`: the run, less its last character when a non-space
        /// follows and the run is longer than one.
        private static func whitespace(_ c: inout CharacterClasses, _ i: Int, _ end: Int) -> Int {
            let j = c.run(from: i, end, c.isSpace)
            if j == end || j - i == 1 { return j - i }
            return j - 1 - i
        }
    }

    /// Unicode classes of the scalars being pre-tokenized: letter (`\p{L}`), number (`\p{N}`), white space
    /// (`\s`), newline (`\r`, `\n`) — with an ASCII table so that common text skips the Unicode property lookup.
    struct CharacterClasses {
        static let letter: UInt8 = 1, number: UInt8 = 2, space: UInt8 = 4, newline: UInt8 = 8

        let scalars: UnsafeBufferPointer<UInt32>

        init(_ scalars: UnsafeBufferPointer<UInt32>) { self.scalars = scalars }

        static let ascii: [UInt8] = (0..<128).map { classify(UInt32($0)) }

        static func classify(_ v: UInt32) -> UInt8 {
            guard let u = Unicode.Scalar(v) else { return 0 }
            let p = u.properties
            var f: UInt8 = 0
            switch p.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: f |= letter
            case .decimalNumber, .letterNumber, .otherNumber: f |= number
            default: break
            }
            if p.isWhitespace { f |= space }
            if v == 0x0A || v == 0x0D { f |= newline }
            return f
        }

        @inline(__always) func classes(_ i: Int) -> UInt8 {
            let v = scalars[i]
            return v < 128 ? Self.ascii[Int(v)] : Self.classify(v)
        }
        @inline(__always) func isLetter(_ i: Int) -> Bool { classes(i) & Self.letter != 0 }
        @inline(__always) func isNumber(_ i: Int) -> Bool { classes(i) & Self.number != 0 }
        @inline(__always) func isSpace(_ i: Int) -> Bool { classes(i) & Self.space != 0 }
        @inline(__always) func isNewline(_ i: Int) -> Bool { classes(i) & Self.newline != 0 }
        /// `[^\s\p{L}\p{N}]`
        @inline(__always) func isOther(_ i: Int) -> Bool {
            classes(i) & (Self.letter | Self.number | Self.space) == 0
        }

        /// The end of the run of characters satisfying `test` that starts at `i`.
        @inline(__always) func run(from i: Int, _ end: Int, _ test: (Int) -> Bool) -> Int {
            var j = i
            while j < end, test(j) { j += 1 }
            return j
        }
    }
}
