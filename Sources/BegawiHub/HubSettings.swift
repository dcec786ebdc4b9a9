import BegawiCore
import Foundation
import NIOSSL

/// What the hub may change while it runs, swapped whole on a reload (SIGHUP): the limits, the TLS
/// certificate and key (new connections use them; open ones keep theirs), and the metrics token.
/// Where it listens and which database and schema it uses change only at a restart.
public final class HubSettings: @unchecked Sendable {
    private let lock = NSLock()
    private var state: State

    struct State {
        var configuration: HubConfiguration
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        var metricsToken: [UInt8]?
    }

    /// Loads the TLS files and the metrics token the configuration names.
    public init(_ configuration: HubConfiguration) throws {
        state = try HubSettings.load(configuration)
    }

    static func load(_ configuration: HubConfiguration) throws -> State {
        try configuration.validate()
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(configuration.certificateFile)
            key = try NIOSSLPrivateKey(file: configuration.privateKeyFile, format: .pem)
        } catch {
            throw BegawiError(.configuration, "cannot load the hub's TLS certificate \(configuration.certificateFile) or key \(configuration.privateKeyFile); check tls_certificate and tls_key in hub.toml (PEM files, readable by the service)", cause: "\(error)")
        }
        guard !chain.isEmpty else {
            throw BegawiError(.configuration, "\(configuration.certificateFile) holds no certificate; check tls_certificate in hub.toml")
        }
        do {
            // A context refuses a key that does not belong to the certificate: better now than at every handshake.
            _ = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        } catch {
            throw BegawiError(.configuration, "the key \(configuration.privateKeyFile) does not belong to the certificate \(configuration.certificateFile); install the pair made together (a key given as credential:NAME is read by systemd only when the service starts: after renewing it, run systemctl restart begawi-hub)", cause: "\(error)")
        }
        var token: [UInt8]?
        if let file = configuration.metricsTokenFile {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw BegawiError(.configuration, "cannot read the metrics token from \(file); check metrics_token_file in hub.toml")
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text.utf8.count >= 16 else {
                throw BegawiError(.configuration, "the metrics token in \(file) is shorter than 16 characters; write a long random one (for example `openssl rand -hex 32`)")
            }
            token = Array(text.utf8)
        }
        return State(configuration: configuration, chain: chain, key: key, metricsToken: token)
    }

    /// The configuration in force.
    public var configuration: HubConfiguration { lock.withLock { state.configuration } }

    var identity: (chain: [NIOSSLCertificate], key: NIOSSLPrivateKey) { lock.withLock { (state.chain, state.key) } }

    /// Whether a metrics token is set (otherwise `/metrics` is off).
    var hasMetricsToken: Bool { lock.withLock { state.metricsToken != nil } }

    /// Whether `token` is the metrics token.
    func isMetricsToken(_ token: String) -> Bool {
        guard let expected = lock.withLock({ state.metricsToken }) else { return false }
        return ConstantTime.equal(Array(token.utf8), expected)
    }

    /// Applies a new configuration, or throws and keeps the one in force. Returns the names of
    /// changed settings that take effect only at the next restart.
    @discardableResult
    public func reload(_ configuration: HubConfiguration) throws -> [String] {
        let next = try HubSettings.load(configuration)
        return lock.withLock {
            let old = state.configuration
            var restartOnly: [String] = []
            if old.host != configuration.host || old.port != configuration.port { restartOnly.append("listen") }
            if old.databasePath != configuration.databasePath || old.databasePasswordFile != configuration.databasePasswordFile {
                restartOnly.append("database")
            }
            if old.schemaPath != configuration.schemaPath { restartOnly.append("schema") }
            if old.portFile != configuration.portFile { restartOnly.append("port_file") }
            var kept = next
            // Settings that need a restart keep their running values, so the configuration in force stays true.
            kept.configuration.host = old.host
            kept.configuration.port = old.port
            kept.configuration.databasePath = old.databasePath
            kept.configuration.databasePasswordFile = old.databasePasswordFile
            kept.configuration.schemaPath = old.schemaPath
            kept.configuration.portFile = old.portFile
            state = kept
            return restartOnly
        }
    }
}
