/// Short descriptions of JSON values for the "found" half of error messages.
enum Found {
    static func describe(_ value: JSONValue?) -> String {
        guard let value else { return "nothing" }
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d): return JSONText.number(d)
        case .string(let s):
            return s.count > 40 ? JSONText.quoted(String(s.prefix(40))) + "…" : JSONText.quoted(s)
        case .array(let a): return a.isEmpty ? "an empty list" : "a list"
        case .object: return "an object"
        }
    }
}
