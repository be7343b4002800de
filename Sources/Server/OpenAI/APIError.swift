import Foundation
import Pipeline

/// An error in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with its HTTP status.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public var type: String
    /// The request field at fault (`steering[0].layer`), when there is one.
    public var param: String?
    public var code: String?

    public init(_ status: Int, _ message: String, param: String? = nil, code: String? = nil, type: String? = nil) {
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = type ?? Self.type(of: status)
    }

    static func type(of status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 500...: "server_error"
        default: "invalid_request_error"
        }
    }

    /// A field that is present but wrong: 400 naming it.
    static func invalid(_ param: String, _ expected: String, found: JSONValue? = nil) -> APIError {
        APIError(400, "\(param): expected \(expected)" + (found.map { ", found \($0.summary)" } ?? ""), param: param,
                 code: "invalid_value")
    }

    public var description: String { message }

    public var json: JSONValue {
        .object([
            "error": .object([
                "message": .string(message), "type": .string(type), "param": param.map(JSONValue.string) ?? .null,
                "code": code.map(JSONValue.string) ?? .null,
            ]),
        ])
    }

    public var response: HTTPResponse {
        var headers: [(String, String)] = []
        if status == 401 { headers.append(("WWW-Authenticate", "Bearer")) }
        return .json(status, CanonicalJSON.encode(json), headers: headers)
    }

    /// A request the HTTP layer could not read, in the same shape.
    public init(_ error: HTTPError) {
        self.init(error.status, error.message, code: "bad_http_request")
    }
}
