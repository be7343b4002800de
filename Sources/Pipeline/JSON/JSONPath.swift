/// A path into a JSON document, printed the way a researcher would write it: `stages[3].params.layers[1]`.
/// The empty path (the whole document) prints as `$`.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// One step: an object key or an array index.
    public enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) { self.components = components }

    /// Parses the printed form (`stages[3].params.layers[1]`); keys must be plain identifiers.
    public init(stringLiteral text: String) {
        var comps: [Component] = []
        for part in text.split(separator: ".") where part != "$" {
            var rest = Substring(part)
            if let bracket = rest.firstIndex(of: "[") {
                let key = rest[..<bracket]
                if !key.isEmpty { comps.append(.key(String(key))) }
                rest = rest[bracket...]
                while rest.first == "[", let close = rest.firstIndex(of: "]") {
                    comps.append(.index(Int(rest[rest.index(after: rest.startIndex)..<close]) ?? 0))
                    rest = rest[rest.index(after: close)...]
                }
            } else {
                comps.append(.key(String(rest)))
            }
        }
        self.components = comps
    }

    public static let root = JSONPath()

    public func appending(_ key: String) -> JSONPath { JSONPath(components + [.key(key)]) }
    public func appending(_ index: Int) -> JSONPath { JSONPath(components + [.index(index)]) }
    public static func + (path: JSONPath, key: String) -> JSONPath { path.appending(key) }
    public static func + (path: JSONPath, index: Int) -> JSONPath { path.appending(index) }

    public var description: String {
        if components.isEmpty { return "$" }
        var out = ""
        for c in components {
            switch c {
            case .key(let k):
                let plain = !k.isEmpty && k.unicodeScalars.allSatisfy {
                    ($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_" || $0 == "-") && $0.isASCII
                }
                if plain {
                    if !out.isEmpty { out += "." }
                    out += k
                } else {
                    var quoted = ""
                    CanonicalJSON.writeString(k, into: &quoted)
                    out += "[\(quoted)]"
                }
            case .index(let i): out += "[\(i)]"
            }
        }
        return out
    }
}
