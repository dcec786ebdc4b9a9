import BegawiCore
import Foundation
import Hummingbird
import HTTPTypes

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
        headers[.contentType] = Wire.jsonMediaType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func bytes(_ bytes: [UInt8], contentType: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension HTTPField.Name {
    static let begawiHubTime = HTTPField.Name(WireHeader.hubTime)!
    static let begawiReplica = HTTPField.Name(WireHeader.replica)!
    static let begawiEpoch = HTTPField.Name(WireHeader.epoch)!
    static let begawiPending = HTTPField.Name(WireHeader.pending)!
    static let begawiSiteTime = HTTPField.Name(WireHeader.siteTime)!
    static let begawiProtocol = HTTPField.Name(WireHeader.protocolVersion)!
    static let begawiDaemonVersion = HTTPField.Name(WireHeader.daemonVersion)!
    static let begawiSchemaVersion = HTTPField.Name(WireHeader.schemaVersion)!
    static let begawiCatchUpNext = HTTPField.Name(WireHeader.catchUpNext)!
}
