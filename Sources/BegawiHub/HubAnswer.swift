import BegawiCore
import Foundation
import Hummingbird
package import HTTPTypes

/// Refusals and JSON answers in one shape: `{"error": code, "message": text}` with a 4xx/5xx status.
package struct HubRefusal: Error, Sendable {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var extra: [String: String] = [:]

    /// Maps an engine error to the status a client should act on.
    init(_ error: BegawiError) {
        code = error.code.description
        message = error.message
        switch error.code {
        case .badBatch, .invalidArgument: status = .badRequest
        case .outOfOrder: status = .conflict
        case .unauthorized: status = .forbidden
        default: status = .internalServerError
        }
    }

    package init(_ status: HTTPResponse.Status, _ code: String, _ message: String, extra: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
    }

    var response: Response {
        var body = extra
        body["error"] = code
        body["message"] = message
        return HubAnswer.json(body, status: status)
    }
}

enum HubAnswer {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func bytes(_ bytes: [UInt8], contentType: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension HTTPField.Name {
    static let begawiHubTime = HTTPField.Name("Begawi-Hub-Time")!
    static let begawiReplica = HTTPField.Name("Begawi-Replica")!
    static let begawiEpoch = HTTPField.Name("Begawi-Epoch")!
    static let begawiPending = HTTPField.Name("Begawi-Pending")!
    static let begawiSiteTime = HTTPField.Name("Begawi-Site-Time")!
}
