import ArgumentParser
import BegawiCore
import BegawiReplica
import CCurl

/// `begawi version`: this build and the system libraries it runs on, for bug reports.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the versions of Begawi and of the libraries it uses.")

    func run() {
        let curl = begawi_curl_version_info().pointee
        let ssl = curl.ssl_version.map { String(cString: $0) } ?? "no TLS"
        print("begawi \(DaemonVersion.current) (protocol \(Wire.protocolVersion))")
        print("SQLite \(Replica.sqliteVersion), libcurl \(String(cString: curl.version)) (\(ssl)), zlib \(Deflate.libraryVersion)")
    }
}
