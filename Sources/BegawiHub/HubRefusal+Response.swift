package import BegawiCore
import Foundation
package import HTTPTypes
package import Hummingbird

/// How the hub throws and answers a `HubRefusal`: its status in HTTP's terms and its body as JSON.
extension HubRefusal {
    /// A refusal with `status`; the fields that go with some codes are set after.
    package init(_ status: HTTPResponse.Status, _ code: Code, _ message: String) {
        self.init(status: status.code, code: code, message: message)
    }

    /// Maps an engine error to the status a client should act on.
    init(_ error: BegawiError) {
        let status: HTTPResponse.Status
        switch error.code {
        case .badBatch, .invalidArgument: status = .badRequest
        case .outOfOrder: status = .conflict
        case .unauthorized: status = .forbidden
        default: status = .internalServerError
        }
        self.init(status, Code(error.code), error.message)
    }

    /// The HTTP status (with its standard reason phrase: every status the hub refuses with is a known one).
    var httpStatus: HTTPResponse.Status { HTTPResponse.Status(code: status) }

    package var response: Response {
        var response = HubAnswer.json(body, status: httpStatus)
        // HTTP asks a 426 to name the protocol to upgrade to: the Begawi exchange this hub speaks.
        if httpStatus == .upgradeRequired { response.headers[.upgrade] = "begawi/\(Wire.protocolVersion)" }
        return response
    }
}
