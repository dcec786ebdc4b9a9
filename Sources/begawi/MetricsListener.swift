import BegawiMetrics
import BegawiSite
import Hummingbird
import Logging
import ServiceLifecycle

/// Serves Prometheus' `/metrics` over plain HTTP on a loopback address (the configuration refuses
/// any other), for a node exporter or Prometheus on the same machine.
enum MetricsListener {
    static func site(host: String, port: Int, siteID: String, metrics: SiteMetrics, logger: Logger) -> some Service {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = MetricsText.contentType
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.page(site: siteID))))
        }
        return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
                           onServerRunning: { channel in
                               logger.info("metrics listening", metadata: ["address": "\(host):\(channel.localAddress?.port ?? port)"])
                           },
                           logger: logger)
    }
}
