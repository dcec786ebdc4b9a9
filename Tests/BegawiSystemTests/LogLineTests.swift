import BegawiTestSupport
import Foundation
import Testing

/// One event, one line: a value in a log line cannot end the line, fake another, colour a
/// terminal or reorder what a reader sees (the journal and `journalctl` show lines as written).
@Suite(.blocking) struct LogLineTests {
    @Test(arguments: ClusterStore.available) func aValueWithControlAndBidiCharactersStaysInItsLine(store: ClusterStore) throws {
        let cluster = try Cluster(label: "log-lines", store: store)
        cluster.hubEnvironment = ["BEGAWI_LOG_LEVEL": "info"]
        try cluster.startHub()
        let hub = try #require(cluster.hub)
        // A reload whose error names a file: LF + a journal priority, CR, ESC (a terminal colour),
        // a right-to-left override, NEL and a line separator, and a backslash.
        let toml = try String(contentsOfFile: cluster.hubConfig, encoding: .utf8)
        let hostile = #"missing\n<2>begawi: FAKE\r\u001B[31mred\u202Eyek.\u0085\u2028\\x"#
        try toml.replacingOccurrences(of: "\"tls/hub.key\"", with: "\"\(hostile)\"").write(toFile: cluster.hubConfig, atomically: true, encoding: .utf8)
        kill(hub.processIdentifier, SIGHUP)
        let deadline = Date().addingTimeInterval(20)
        while !cluster.hubLog().contains("configuration not reloaded"), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        let log = cluster.hubLog()
        let lines = log.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let line = try #require(lines.first { $0.contains("configuration not reloaded") }, "\(log)")
        #expect(line.contains(#"missing\n<2>begawi: FAKE\r\u{1B}[31mred\u{202E}yek.\u{85}\u{2028}\\x"#), "\(line.debugDescription)")
        for scalar in log.unicodeScalars where scalar != "\n" {
            let category = scalar.properties.generalCategory
            #expect(![.control, .format, .lineSeparator, .paragraphSeparator].contains(category),
                    "U+\(String(scalar.value, radix: 16, uppercase: true)) reached the log raw")
        }
        #expect(!lines.contains { $0.hasPrefix("<2>") || $0.contains("FAKE") && !$0.contains("configuration not reloaded") })
        #expect(hub.isRunning)
    }
}
