import ArgumentParser
import BegawiCertificates
import BegawiCore
import Foundation

/// `begawi hub make-certificates`: a private CA and the hub's certificate, made in-process (swift-certificates).
struct MakeCertificates: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-certificates",
        abstract: "Make a private CA (ca.crt, ca.key) and a hub certificate (hub.crt, hub.key) signed by it. When the folder already holds ca.crt and ca.key, only a new hub certificate and key are made, signed by that CA (a renewal the sites keep trusting).")
    @Option(help: "The folder to write the files to.") var out: String
    @Option(help: "A DNS name or IP address of the hub (repeat for several).") var name: [String] = ["localhost", "127.0.0.1"]
    @Option(help: "Validity in days.") var days = 825

    func run() throws {
        let d = out
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        let fm = FileManager.default
        let renewal = fm.fileExists(atPath: "\(d)/ca.crt") && fm.fileExists(atPath: "\(d)/ca.key")
        let ca = renewal
            ? PEMPair(certificate: try Self.read("\(d)/ca.crt"), key: try Self.read("\(d)/ca.key"))
            : try PrivateCA.make(commonName: "Begawi private CA", days: days)
        // Everything is made before anything is written: a refused name leaves the folder as it was.
        let hub = try PrivateCA.issue(for: name, commonName: name.first ?? "hub", by: ca, days: days)
        if !renewal {
            try Self.write(ca.key, to: "\(d)/ca.key", mode: 0o600)
            try Self.write(ca.certificate, to: "\(d)/ca.crt", mode: 0o644)
        }
        try Self.write(hub.key, to: "\(d)/hub.key", mode: 0o600)
        try Self.write(hub.certificate, to: "\(d)/hub.crt", mode: 0o644)
        if renewal {
            print("wrote \(d)/hub.crt and \(d)/hub.key, signed by the CA already in \(d) (sites keep their ca.crt)")
        } else {
            print("wrote \(d)/ca.crt (give it to every site), \(d)/hub.crt and \(d)/hub.key (the hub's), \(d)/ca.key (keep offline)")
        }
    }

    static func read(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw BegawiError(.configuration, "cannot read \(path); check its permissions", cause: "\(error)")
        }
    }

    /// Replaces the file at `path`; a key file is created with its mode, never readable by others even briefly.
    static func write(_ text: String, to path: String, mode: mode_t) throws {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw BegawiError(.configuration, "cannot create \(path); check the folder's permissions", cause: String(cString: strerror(errno))) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw BegawiError(.configuration, "cannot write \(path); is the disk full?", cause: String(cString: strerror(errno))) }
    }
}
