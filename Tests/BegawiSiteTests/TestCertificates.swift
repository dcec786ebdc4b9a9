import Foundation

/// Throwaway TLS certificates for tests, made with the `openssl` command once per test process.
///
/// Self-contained (Foundation and the `openssl` command only), so the file can be copied into any test target.
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
        let loopback = ["IP:127.0.0.1", "DNS:localhost"]
        ca = try Self.makeCA(named: "ca", in: directory)
        otherCA = try Self.makeCA(named: "other-ca", in: directory)
        server = try Self.issue(named: "server", for: loopback, by: ca, in: directory)
        serverSignedByOtherCA = try Self.issue(named: "server-other-ca", for: loopback, by: otherCA, in: directory)
        serverForOtherName = try Self.issue(named: "server-other-name", for: ["DNS:elsewhere.invalid"], by: ca, in: directory)
    }

    /// Makes a self-signed CA.
    static func makeCA(named name: String, in directory: String) throws -> KeyPair {
        let pair = KeyPair(certificate: "\(directory)/\(name).crt", key: "\(directory)/\(name).key")
        let config = "\(directory)/\(name).cnf"
        try """
            [req]
            distinguished_name = dn
            [dn]
            [ca]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash

            """.write(toFile: config, atomically: true, encoding: .utf8)
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pair.key])
        try openssl(["req", "-x509", "-new", "-key", pair.key, "-out", pair.certificate, "-days", "2",
                     "-subj", "/CN=Begawi test \(name) \(UUID().uuidString.prefix(8))", "-config", config, "-extensions", "ca"])
        return pair
    }

    /// Makes a server certificate for the given subjectAltName entries ("IP:…", "DNS:…"), signed by `issuer`.
    static func issue(named name: String, for altNames: [String], by issuer: KeyPair, in directory: String) throws -> KeyPair {
        let pair = KeyPair(certificate: "\(directory)/\(name).crt", key: "\(directory)/\(name).key")
        let request = "\(directory)/\(name).csr"
        let extensions = "\(directory)/\(name).ext"
        // Clients match names against subjectAltName only; the common name is ignored.
        try """
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = serverAuth
            subjectAltName = \(altNames.joined(separator: ", "))

            """.write(toFile: extensions, atomically: true, encoding: .utf8)
        try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", pair.key])
        try openssl(["req", "-new", "-key", pair.key, "-out", request, "-subj", "/CN=\(name)"])
        try openssl(["x509", "-req", "-in", request, "-CA", issuer.certificate, "-CAkey", issuer.key, "-out", pair.certificate,
                     "-days", "2", "-set_serial", "0x" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(30),
                     "-extfile", extensions])
        return pair
    }

    /// Runs `openssl` with the given arguments; throws with its output when it fails.
    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestCertificateError(message: "openssl \(arguments.joined(separator: " ")) failed: \(text)")
        }
    }
}

/// A certificate could not be made.
struct TestCertificateError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
