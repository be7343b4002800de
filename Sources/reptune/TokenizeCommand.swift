import Engine
import Foundation
import ModelFormats

/// `reptune tokenize MODEL TEXT`: token ids and pieces.
enum TokenizeCommand {
    static let spec = Arguments.Spec(
        usage: "tokenize [MODEL] TEXT [--no-special] [--bos]",
        summary: "token ids and pieces of TEXT (special tokens in the text recognised unless --no-special)",
        flags: ["no-special", "bos"])

    struct Token: Encodable { var id: Int; var piece: String }

    static func run(_ args: [String]) throws {
        let a = try spec.parse(args)
        guard let text = a.positional.last else { throw CLIError("give the TEXT to tokenize") }
        let url = try ModelLocation.resolve(a.positional.count > 1 ? a.positional.first : nil)
        let tokenizer = try Tokenizer(gguf: GGUFFile(contentsOf: url))
        let ids = tokenizer.encode(text, addBOS: a.flags.contains("bos") ? true : nil, parseSpecial: !a.flags.contains("no-special"))
        let tokens = ids.map { Token(id: $0, piece: tokenizer.token($0) ?? "?") }
        if a.flags.contains("json") { return try printJSON(tokens) }
        print("\(ids.count) tokens: \(ids.map(String.init).joined(separator: " "))")
        for t in tokens { print(String(t.id).padding(toLength: 8, withPad: " ", startingAt: 0) + t.piece.debugDescription) }
    }
}
