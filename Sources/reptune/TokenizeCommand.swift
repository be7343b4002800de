import CommandLineSpec
import Engine
import Foundation
import ModelFormats

/// `reptune tokenize MODEL TEXT`: token ids and pieces.
enum TokenizeCommand {
    struct Token: Encodable { var id: Int; var piece: String }

    static func run(_ a: ParsedArguments) throws {
        let text = a.positional[a.positional.count - 1]
        let url = try ModelLocation.resolve(a.positional.count > 1 ? a.positional.first : nil)
        let tokenizer = try Tokenizer(gguf: GGUFFile(contentsOf: url))
        let ids = tokenizer.encode(text, addBOS: a.flag("bos") ? true : nil, parseSpecial: !a.flag("no-special"))
        let tokens = ids.map { Token(id: $0, piece: tokenizer.token($0) ?? "?") }
        if a.json { return try printJSON(tokens) }
        print("\(ids.count) tokens: \(ids.map(String.init).joined(separator: " "))")
        for t in tokens { print(String(t.id).padding(toLength: 8, withPad: " ", startingAt: 0) + t.piece.debugDescription) }
    }
}
