import BegawiTestSupport
import Foundation

/// Reads a `/metrics` page the way Prometheus would: fetched over HTTP(S) and parsed by the
/// reference client library's parser (Debian's python3-prometheus-client), so that a page the
/// format does not allow fails the test.
struct Prometheus {
    struct Sample: Decodable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    struct Page: Decodable {
        let status: Int
        let samples: [Sample]?
        let types: [String: String]?

        /// The value of the sample with this name whose labels include `labels`.
        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            samples?.first { sample in sample.name == name && labels.allSatisfy { k, v in sample.labels[k] == v } }?.value
        }
    }

    static let script = """
        import json, ssl, sys, urllib.request, urllib.error
        from prometheus_client.parser import text_string_to_metric_families
        url, token, ca = sys.argv[1], sys.argv[2], sys.argv[3]
        request = urllib.request.Request(url)
        if token:
            request.add_header("Authorization", "Bearer " + token)
        context = ssl.create_default_context(cafile=ca) if ca else None
        try:
            answer = urllib.request.urlopen(request, context=context, timeout=20)
        except urllib.error.HTTPError as e:
            print(json.dumps({"status": e.code}))
            sys.exit(0)
        if not answer.headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"):
            sys.exit("wrong content type: " + answer.headers.get("Content-Type", ""))
        samples, types = [], {}
        for family in text_string_to_metric_families(answer.read().decode("utf-8")):
            types[family.name] = family.type
            for s in family.samples:
                samples.append({"name": s.name, "labels": s.labels, "value": s.value})
        print(json.dumps({"status": 200, "samples": samples, "types": types}))
        """

    /// The Python with Debian's packages (not a user's pyenv).
    static var python: String {
        FileManager.default.fileExists(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
    }

    static func scrape(_ url: String, token: String = "", caFile: String = "") throws -> Page {
        try JSONDecoder().decode(Page.self, from: try runPython(["-c", script, url, token, caFile], what: "reading the metrics page at \(url)"))
    }

    /// Runs Debian's Python with arguments; its standard output, or an error with its standard error.
    static func runPython(_ arguments: [String], what: String) throws -> Data {
        let result = try ChildProcess.run("/usr/bin/env", [python] + arguments)
        guard result.status == 0 else {
            throw ClusterError("\(what) failed (\(result.status)): \(result.errors)")
        }
        return result.outputData
    }

    /// A socket listening on a loopback port (to make the port taken).
    static func listen() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, Glibc.listen(fd, 1) == 0 else { throw ClusterError("cannot listen on a loopback port") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    /// A TCP port nothing listens on right now.
    static func freePort() -> Int {
        guard let (fd, port) = try? listen() else { return 0 }
        close(fd)
        return port
    }
}
