import BegawiCore
import Hummingbird
import HTTPTypes
import Logging
import NIOHTTP1

/// Puts the hub's time on every answer, and turns every failure into a JSON refusal: a client
/// always learns the hub's clock and a reason, and no error escapes as a dropped connection.
struct HubMiddleware<Context: RequestContext>: RouterMiddleware {
    let clock: any WallClock
    let logger: Logger
    let settings: HubSettings
    let metrics: HubMetrics
    /// The route groups' path prefixes, each one route in the metrics.
    var groups: [String] = []

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let maxBodyBytes = settings.configuration.maxBodyBytes
        var response: Response
        do {
            response = try await next(request, context)
        } catch let refusal as HubRefusal {
            response = refusal.response
        } catch let error as BegawiError {
            let refusal = HubRefusal(error)
            if refusal.httpStatus == .internalServerError {
                logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            }
            response = refusal.response
        } catch let error as any HTTPResponseError {
            // Hummingbird's own errors, and NIO's for a body that grows past the limit while read.
            let tooLarge = error.status == .contentTooLarge
            let message = tooLarge ? "the request body is larger than the hub accepts (\(maxBodyBytes) bytes); send smaller batches"
                : ((error as? HTTPError)?.body ?? error.status.reasonPhrase)
            response = HubRefusal(error.status, tooLarge ? .tooLarge : .http(error.status.code), message).response
        } catch let error as HTTPParserError {
            // The request's bytes broke off or were not HTTP (the client hung up mid-body, or a
            // timeout ended it): the client's doing, so not an error of the hub's, and never one
            // log line per connection that any outsider can cause.
            logger.debug("request ended early", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = HubRefusal(.badRequest, .badRequest, "the request ended before its body did, or is not HTTP/1.1; send it again whole").response
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = HubRefusal(.internalServerError, .internal, "the hub failed to answer; try again later").response
        }
        response.headers[.begawiHubTime] = String(clock.nowMilliseconds())
        // The hub speaks HTTPS only: a browser that once reached the dashboard never tries plain HTTP.
        response.headers[.strictTransportSecurity] = "max-age=31536000"
        let path = request.uri.path
        let elapsed = ContinuousClock.now - started
        // A held pull lasts as long as the hub had nothing new: its own route, or pulls' latency would say minutes.
        let held = path == "/v1/pull" && (request.uri.queryParameters.get("wait", as: Int.self) ?? 0) > 0
        metrics.request(route: held ? HubRouteName.heldPull : HubRouteName.of(path, groups: groups), status: Int(response.status.code),
                        seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        return response
    }
}

/// A request's route as a metrics label: the API's paths by name, each route group (the dashboard)
/// as one, anything else "other" (a path is not a label: its values would be unbounded).
enum HubRouteName {
    static let named: Set<String> = ["/v1/health", "/v1/openapi.yaml", "/v1/session", "/v1/push", "/v1/pull", "/metrics"]
    /// A pull with `wait`: its time is mostly the wait for a change.
    static let heldPull = "/v1/pull?wait"

    static func of(_ path: String, groups: [String]) -> String {
        named.contains(path) ? path : (groups.first { path.hasPrefix($0) } ?? "other")
    }
}
