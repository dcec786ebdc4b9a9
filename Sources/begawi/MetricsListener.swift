import BegawiMetrics
import BegawiSite
import Hummingbird
import Logging
import ServiceLifecycle

/// Serves Prometheus' `/metrics` over plain HTTP on a loopback address (the configuration refuses
/// any other), for a node exporter or Prometheus on the same machine.
struct MetricsListener<Inner: Service>: Service {
    let inner: Inner
    let logger: Logger

    /// A monitoring listener must not stop syncing: when it cannot serve (its port is taken), the
    /// error is logged and the group goes on without it (`failureTerminationBehavior: .ignore`).
    func run() async throws {
        do {
            try await inner.run()
        } catch let error where !(error is CancellationError) {
            logger.error("metrics not served; the daemon syncs on without them", metadata: ["error": "\(error)"])
            throw error
        }
    }
}

extension MetricsListener where Inner == Application<RouterResponder<BasicRequestContext>> {
    static func site(host: String, port: Int, siteID: String, metrics: SiteMetrics, logger: Logger) -> ServiceGroupConfiguration.ServiceConfiguration {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = MetricsText.contentType
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.page(site: siteID))))
        }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
                              onServerRunning: { channel in
                                  logger.info("metrics listening", metadata: ["address": "\(host):\(channel.localAddress?.port ?? port)"])
                              },
                              logger: logger)
        return .init(service: MetricsListener(inner: app, logger: logger), successTerminationBehavior: .ignore,
                     failureTerminationBehavior: .ignore, serviceName: "metrics")
    }
}
