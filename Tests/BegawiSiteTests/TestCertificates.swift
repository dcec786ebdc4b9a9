import BegawiCertificates
import Foundation

/// Throwaway TLS certificates for tests, made in-process (BegawiCertificates) once per test process.
///
/// Keys are P-256 (fast to make); certificates are valid for two days; the folder is removed when the process exits.
struct TestCertificates: Sendable {
    /// A certificate and its private key, both PEM files.
    struct KeyPair: Sendable {
        let certificate: String
        let key: String
    }

    /// The folder holding every file (under /dev/shm when there is one).
    let directory: String
    /// The CA that clients under test trust.
    let ca: KeyPair
    /// A second CA, unrelated to `ca`.
    let otherCA: KeyPair
    /// A server certificate for 127.0.0.1 and localhost, signed by `ca`.
    let server: KeyPair
    /// A server certificate for 127.0.0.1 and localhost, signed by `otherCA`.
    let serverSignedByOtherCA: KeyPair
    /// A server certificate signed by `ca` for another name only (`elsewhere.invalid`).
    let serverForOtherName: KeyPair

    /// The certificates of this test process, made on first use.
    static func shared() throws -> TestCertificates { try made.get() }

    private static let made = Result<TestCertificates, any Error> { try TestCertificates() }

    /// This process's folder; one per process, so parallel test processes never share files.
    private static let folder: String = {
        let root = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return root + "/begawi-test-certificates-\(UUID().uuidString.prefix(8))"
    }()

    private init() throws {
        directory = Self.folder
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: TestCertificates.folder) }
        let loopback = ["127.0.0.1", "localhost"]
        ca = try Self.makeCA(named: "ca", in: directory)
        otherCA = try Self.makeCA(named: "other-ca", in: directory)
        server = try Self.issue(named: "server", for: loopback, by: ca, in: directory)
        serverSignedByOtherCA = try Self.issue(named: "server-other-ca", for: loopback, by: otherCA, in: directory)
        serverForOtherName = try Self.issue(named: "server-other-name", for: ["elsewhere.invalid"], by: ca, in: directory)
    }

    /// Makes a self-signed CA.
    static func makeCA(named name: String, in directory: String) throws -> KeyPair {
        let made = try PrivateCA.make(commonName: "Begawi test \(name) \(UUID().uuidString.prefix(8))", days: 2)
        return try save(made, named: name, in: directory)
    }

    /// Makes a server certificate for the given names (DNS names or IP addresses), signed by `issuer`.
    static func issue(named name: String, for altNames: [String], by issuer: KeyPair, in directory: String) throws -> KeyPair {
        let ca = PEMPair(certificate: try String(contentsOfFile: issuer.certificate, encoding: .utf8),
                         key: try String(contentsOfFile: issuer.key, encoding: .utf8))
        return try save(try PrivateCA.issue(for: altNames, commonName: name, by: ca, days: 2), named: name, in: directory)
    }

    private static func save(_ pair: PEMPair, named name: String, in directory: String) throws -> KeyPair {
        let files = KeyPair(certificate: "\(directory)/\(name).crt", key: "\(directory)/\(name).key")
        try pair.certificate.write(toFile: files.certificate, atomically: true, encoding: .utf8)
        try pair.key.write(toFile: files.key, atomically: true, encoding: .utf8)
        return files
    }
}


/// A test fixture could not be made.
struct TestCertificateError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
