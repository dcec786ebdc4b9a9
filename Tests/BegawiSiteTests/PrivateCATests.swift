import BegawiTestSupport
import BegawiCertificates
import BegawiCore
import Foundation
import Testing

/// The certificates PrivateCA makes, checked by OpenSSL (an independent reader), and a renewal
/// signed by a CA that openssl made (as `make-certificates` did before it used swift-certificates).
@Suite(.blocking) struct PrivateCATests {
    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + "begawi-private-ca-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    @Test func openSSLVerifiesTheServerCertificateForEachName() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let ca = try PrivateCA.make(commonName: "Begawi test CA", days: 2)
        let hub = try PrivateCA.issue(for: ["hub.example", "127.0.0.1", "::1"], commonName: "hub.example", by: ca, days: 2)
        try ca.certificate.write(toFile: "\(folder)/ca.crt", atomically: true, encoding: .utf8)
        try hub.certificate.write(toFile: "\(folder)/hub.crt", atomically: true, encoding: .utf8)
        try hub.key.write(toFile: "\(folder)/hub.key", atomically: true, encoding: .utf8)
        for check in [["-verify_hostname", "hub.example"], ["-verify_ip", "127.0.0.1"], ["-verify_ip", "::1"]] {
            let result = try Self.openssl(["verify", "-purpose", "sslserver", "-CAfile", "\(folder)/ca.crt"] + check + ["\(folder)/hub.crt"])
            #expect(result.status == 0, "\(check): \(result.output)")
        }
        let wrongName = try Self.openssl(["verify", "-CAfile", "\(folder)/ca.crt", "-verify_hostname", "elsewhere.example", "\(folder)/hub.crt"])
        #expect(wrongName.status != 0, "a name not in the certificate is refused")
        // The key is the certificate's.
        let fromKey = try Self.openssl(["pkey", "-in", "\(folder)/hub.key", "-pubout"])
        let fromCertificate = try Self.openssl(["x509", "-in", "\(folder)/hub.crt", "-noout", "-pubkey"])
        #expect(fromKey.status == 0 && fromKey.output == fromCertificate.output)
    }

    @Test func aCAMadeByOpenSSLSignsARenewal() throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                                     "-subj", "/CN=Begawi private CA", "-keyout", "\(folder)/ca.key", "-out", "\(folder)/ca.crt",
                                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try #require(made.status == 0, "\(made.output)")
        let ca = PEMPair(certificate: try String(contentsOfFile: "\(folder)/ca.crt", encoding: .utf8),
                         key: try String(contentsOfFile: "\(folder)/ca.key", encoding: .utf8))
        let hub = try PrivateCA.issue(for: ["localhost"], commonName: "localhost", by: ca, days: 2)
        try hub.certificate.write(toFile: "\(folder)/hub.crt", atomically: true, encoding: .utf8)
        let result = try Self.openssl(["verify", "-purpose", "sslserver", "-CAfile", "\(folder)/ca.crt", "-verify_hostname", "localhost", "\(folder)/hub.crt"])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func badInputIsRefusedWithAClearError() throws {
        let ca = try PrivateCA.make(commonName: "Begawi test CA", days: 2)
        let other = try PrivateCA.make(commonName: "Another CA", days: 2)
        for name in ["", "1.2.3", "hub example", "hüb.example"] {
            #expect(throws: BegawiError.self, "name \(name.debugDescription)") {
                try PrivateCA.issue(for: [name], commonName: "hub", by: ca, days: 2)
            }
        }
        for days in [0, -1, Int.max] {
            #expect(throws: BegawiError.self, "days \(days)") { try PrivateCA.make(commonName: "CA", days: days) }
        }
        let mismatched = PEMPair(certificate: ca.certificate, key: other.key)
        let error = #expect(throws: BegawiError.self) { try PrivateCA.issue(for: ["localhost"], commonName: "hub", by: mismatched, days: 2) }
        #expect(error?.message.contains("does not belong") == true)
        #expect(throws: BegawiError.self) { try PrivateCA.issue(for: ["localhost"], commonName: "hub", by: PEMPair(certificate: "x", key: ca.key), days: 2) }
    }

    static func openssl(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
